"""Text from the practice's records (names, complaints, notes, file and mapping names) shown through
Markdown: the one escape every page uses.

Streamlit renders ``st.markdown``, ``st.write``, captions, alerts, ``st.page_link`` labels and
widget labels as Markdown.  A client named ``![x](http://example.org/p.png)`` would make the
browser fetch that address (so the record would leave this computer), and ``**``, ``#``, ``[…](…)``
or ``:red[…]`` would change how the page reads.  :func:`md` turns every character Markdown acts on
into its backslash escape, so the text shows exactly as typed.
"""

from __future__ import annotations

import math

# Every ASCII punctuation character Markdown (CommonMark + GFM, and Streamlit's ``:icon:``,
# ``:color[…]`` and ``$math$`` extensions) can act on; a backslash before any of them shows it as is.
_SPECIAL = "\\`*_{}[]()<>#+-.!|~$:&"
_TABLE = str.maketrans({ch: "\\" + ch for ch in _SPECIAL})


def md(text: object) -> str:
    """``text`` as Markdown that shows literally; "—" for a missing value.  Line breaks become spaces
    (a name never starts a new paragraph, heading or list)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return "—"
    return " ".join(str(text).split()).translate(_TABLE)
