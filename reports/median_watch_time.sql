-- Median watch time: per content, the median learner's unique seconds watched (watched blocks x
-- block length), exact (the mean of the two middle values for an even count). As
-- `watch_time.unique_seconds.median` in the API.
-- Result: media_content_key, learners, median_unique_seconds
WITH ranked AS (
    SELECT media_content_key, array_length(watched) * block_length AS unique_seconds,
           row_number() OVER (PARTITION BY media_content_key ORDER BY array_length(watched)) AS position,
           count(*) OVER (PARTITION BY media_content_key) AS learners
    FROM counted
)
SELECT media_content_key, max(learners) AS learners, round(avg(unique_seconds), 3) AS median_unique_seconds
FROM ranked
WHERE position IN (floor((learners + 1) / 2.0), floor((learners + 2) / 2.0))
GROUP BY media_content_key
ORDER BY media_content_key
