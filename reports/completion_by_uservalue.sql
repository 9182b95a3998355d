-- Completion by uservalue: per value the LMS attached to its playback URLs (a department, a
-- semester, a class: `uservalue0` … `uservalue99`, as the learner's latest callback carried it), the
-- records that carry it, how many are complete, and their median progress.
-- Result: name, value, records, learners, completed, completion_rate, median_progress
WITH tagged AS (
    SELECT u.name, u.value, l.client_user_id, l.progress, l.completed_at,
           row_number() OVER (PARTITION BY u.name, u.value ORDER BY l.progress) AS position,
           count(*) OVER (PARTITION BY u.name, u.value) AS records
    FROM uservalue AS u
    JOIN learner_content AS l
      ON l.media_content_key = u.media_content_key AND l.client_user_id = u.client_user_id
), medians AS (
    SELECT name, value, avg(progress) AS median_progress
    FROM tagged
    WHERE position IN (floor((records + 1) / 2.0), floor((records + 2) / 2.0))
    GROUP BY name, value
)
SELECT t.name, t.value, count(*) AS records, count(DISTINCT t.client_user_id) AS learners,
       count(*) FILTER (WHERE t.completed_at IS NOT NULL) AS completed,
       round(100.0 * count(*) FILTER (WHERE t.completed_at IS NOT NULL) / count(*), 1) AS completion_rate,
       round(max(m.median_progress), 1) AS median_progress
FROM tagged AS t
JOIN medians AS m ON m.name = t.name AND m.value = t.value
GROUP BY t.name, t.value
ORDER BY t.name, t.value
