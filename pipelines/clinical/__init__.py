"""Clinical rules: change classification, thresholds, questionnaire scoring, practice settings.

``pipelines.clinical.change.classify_change`` is a stable name that scripts outside the project import.
"""

from pipelines.clinical.change import DETERIORATED, HARMED, IMPROVED, RECOVERED, UNCHANGED, classify_change

__all__ = ["classify_change", "RECOVERED", "IMPROVED", "UNCHANGED", "DETERIORATED", "HARMED"]
