SELECT device,
       CAST(from_unixtime(event_time) AS date) AS day,
       count(*) AS door_events
FROM (
    SELECT device, gen, seq,
           min(CASE WHEN ts BETWEEN 1704067200 AND received THEN ts
                    ELSE received END) AS event_time
    FROM "iot_porter"."door_events"
    WHERE device IS NOT NULL
      AND gen IS NOT NULL
      AND seq IS NOT NULL
      AND received IS NOT NULL
    GROUP BY device, gen, seq
) AS unique_events
GROUP BY 1, 2
ORDER BY 2, 1
