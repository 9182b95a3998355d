-- Playback speed per block: how fast learners play each part of a lecture (a part played fast was
-- skimmed; one played slower than the rest, hard going). Per content and block (0-based) of its grid,
-- the content seconds played over the wall-clock seconds they took. The LMS callback reports content
-- seconds per block but wall time only per session, so each session's wall time is spread over its
-- blocks in proportion to their content seconds (a session plays at one speed: its content seconds
-- over its wall seconds). Sessions marked suspicious, or without both times, are left out.
-- Result: media_content_key, block, sessions, content_seconds, wall_seconds, speed
WITH paced AS (
    SELECT s.media_content_key, s.block_seconds, s.content_seconds / s.wall_seconds AS session_speed
    FROM session AS s
    JOIN grid AS g ON g.media_content_key = s.media_content_key AND g.block_count = s.block_count
    WHERE s.content_seconds > 0 AND s.wall_seconds > 0 AND NOT s.suspicious
), played AS (
    SELECT p.media_content_key, u.position - 1 AS block, u.seconds, u.seconds / p.session_speed AS wall
    FROM paced AS p
    CROSS JOIN UNNEST(p.block_seconds) WITH ORDINALITY AS u(seconds, position)
    WHERE u.seconds > 0
)
SELECT media_content_key, block, count(*) AS sessions, sum(seconds) AS content_seconds,
       sum(wall) AS wall_seconds, round(sum(seconds) / sum(wall), 2) AS speed
FROM played
GROUP BY media_content_key, block
ORDER BY media_content_key, block
