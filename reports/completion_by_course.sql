-- Completion by course: per course, its enrolled learners, and over each enrolled learner's record
-- of each of the course's lectures: records started, completed, the completion rate (completed of
-- enrolled x lectures) and the median progress of the records started.
-- Result: course_id, title, lectures, enrolled, started, completed, completion_rate, median_progress
WITH lectures AS (
    SELECT c.course_id, c.title, u.media_content_key
    FROM course AS c
    CROSS JOIN UNNEST(c.media_content_keys) AS u(media_content_key)
), enrolled AS (
    SELECT course_id, count(DISTINCT client_user_id) AS learners
    FROM enrollment
    WHERE source IS NULL OR source <> 'dropped'
    GROUP BY course_id
), records AS (
    SELECT l.course_id, r.progress, r.completed_at,
           row_number() OVER (PARTITION BY l.course_id ORDER BY r.progress) AS position,
           count(*) OVER (PARTITION BY l.course_id) AS started
    FROM lectures AS l
    JOIN learner_content AS r ON r.media_content_key = l.media_content_key
    JOIN enrollment AS e ON e.course_id = l.course_id AND e.client_user_id = r.client_user_id
    WHERE e.source IS NULL OR e.source <> 'dropped'
), medians AS (
    SELECT course_id, avg(progress) AS median_progress
    FROM records
    WHERE position IN (floor((started + 1) / 2.0), floor((started + 2) / 2.0))
    GROUP BY course_id
), counts AS (
    SELECT course_id, count(*) AS started, count(*) FILTER (WHERE completed_at IS NOT NULL) AS completed
    FROM records
    GROUP BY course_id
), sizes AS (
    SELECT course_id, title, count(*) AS lectures FROM lectures GROUP BY course_id, title
)
SELECT s.course_id, s.title, s.lectures, coalesce(e.learners, 0) AS enrolled, coalesce(k.started, 0) AS started,
       coalesce(k.completed, 0) AS completed,
       CASE WHEN coalesce(e.learners, 0) = 0 THEN NULL
            ELSE round(100.0 * coalesce(k.completed, 0) / (e.learners * s.lectures), 1) END AS completion_rate,
       round(m.median_progress, 1) AS median_progress
FROM sizes AS s
LEFT JOIN enrolled AS e ON e.course_id = s.course_id
LEFT JOIN counts AS k ON k.course_id = s.course_id
LEFT JOIN medians AS m ON m.course_id = s.course_id
ORDER BY s.course_id
