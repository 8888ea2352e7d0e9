-- seed 001 cats: injured cats sighted per municipality per day (UTC)
SELECT dt AS day, municipality_code, max(municipality_name) AS municipality_name,
       count(DISTINCT cat_id) AS injured_cats, count(*) AS sightings
FROM cat_sighting_v1
WHERE status = 'injured'
GROUP BY dt, municipality_code
ORDER BY day, municipality_code
