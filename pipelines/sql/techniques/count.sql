-- How many visits the filters select (decides between the mixed model and the large-data path).
select count(*)
from (/*filtered_visits*/) as filtered
