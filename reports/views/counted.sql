-- counted: the learners each content's figures count (a session on its grid), with their watched
-- blocks on it, progress and completion.
CREATE OR REPLACE VIEW counted AS
SELECT l.media_content_key, l.client_user_id, l.watched, l.progress, l.completed_at, l.uservalues,
       l.course_ids, g.block_count, g.block_length
FROM learner_content AS l
JOIN grid AS g ON g.media_content_key = l.media_content_key AND g.block_count = l.block_count
WHERE EXISTS (
    SELECT 1 FROM session AS s
    WHERE s.media_content_key = l.media_content_key AND s.client_user_id = l.client_user_id
      AND s.block_count = g.block_count
)
