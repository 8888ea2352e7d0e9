-- seed 000 IoT: the last reading of each device and metric, over every version of sensor.reading
WITH readings AS (
    SELECT id, device_id, metric, value, unit, "time" FROM sensor_reading_v1
    UNION ALL
    SELECT id, device_id, metric, quantity_value AS value, quantity_unit AS unit, "time" FROM sensor_reading_v2
),
ranked AS (
    SELECT device_id, metric, value, unit, "time",
           row_number() OVER (PARTITION BY device_id, metric ORDER BY "time" DESC, id DESC) AS rn
    FROM readings
)
SELECT device_id, metric, value, unit, "time"
FROM ranked
WHERE rn = 1
ORDER BY device_id, metric
