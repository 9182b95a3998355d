-- Completion by content: per lecture, its title and length, the learners with a record of it, how
-- many completed it, the completion rate (completed of started) and the median progress of the
-- records (all of them, whatever their grid: progress is a share of the learner's own grid).
-- Result: media_content_key, title, duration, started, completed, completion_rate, median_progress
WITH records AS (
    SELECT media_content_key, progress, completed_at,
           row_number() OVER (PARTITION BY media_content_key ORDER BY progress) AS position,
           count(*) OVER (PARTITION BY media_content_key) AS started
    FROM learner_content
), medians AS (
    SELECT media_content_key, avg(progress) AS median_progress
    FROM records
    WHERE position IN (floor((started + 1) / 2.0), floor((started + 2) / 2.0))
    GROUP BY media_content_key
), counts AS (
    SELECT media_content_key, count(*) AS started, count(*) FILTER (WHERE completed_at IS NOT NULL) AS completed
    FROM records
    GROUP BY media_content_key
)
SELECT k.media_content_key, c.title, c.duration, k.started, k.completed,
       round(100.0 * k.completed / k.started, 1) AS completion_rate, round(m.median_progress, 1) AS median_progress
FROM counts AS k
JOIN medians AS m ON m.media_content_key = k.media_content_key
LEFT JOIN content AS c ON c.media_content_key = k.media_content_key
ORDER BY k.media_content_key
