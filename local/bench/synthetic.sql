-- Row 11's datasets, written by DuckDB itself: {learners} learners of one 100-block content, each
-- watching a random stretch from its start (for the coverage report), then a course of {lectures}
-- lectures with every learner enrolled and a record of each (for completion by course).
SELECT setseed(0.7);
COPY (SELECT 'bench-lecture' AS media_content_key, 100 AS block_count, 'l-' || i AS client_user_id,
             generate_series(0, (random() * 99)::INTEGER)::INTEGER[] AS watched, 0.0 AS progress,
             NULL::TIMESTAMP AS completed_at, NULL::TIMESTAMP AS first_active_at, NULL::TIMESTAMP AS last_active_at,
             1 AS sessions, MAP {{}}::MAP(VARCHAR, VARCHAR) AS uservalues, []::VARCHAR[] AS course_ids
      FROM range({learners}) AS t(i))
TO '{root}/learner_content/coverage.parquet' (FORMAT PARQUET);
COPY (SELECT 'bench-lecture' AS media_content_key, 100 AS block_count, 600.0 AS duration, 'l-' || i AS client_user_id
      FROM range({learners}) AS t(i))
TO '{root}/session/data.parquet' (FORMAT PARQUET);
COPY (SELECT 'lecture-' || k AS media_content_key, 100 AS block_count, 'l-' || i AS client_user_id,
             []::INTEGER[] AS watched, (random() * 100)::DOUBLE AS progress,
             CASE WHEN random() < 0.3 THEN TIMESTAMP '2026-12-01' END AS completed_at,
             NULL::TIMESTAMP AS first_active_at, NULL::TIMESTAMP AS last_active_at, 1 AS sessions,
             MAP {{}}::MAP(VARCHAR, VARCHAR) AS uservalues, ['bench']::VARCHAR[] AS course_ids
      FROM range({learners}) AS t(i), range({lectures}) AS l(k))
TO '{root}/learner_content/course.parquet' (FORMAT PARQUET);
COPY (SELECT 'bench' AS course_id, 'l-' || i AS client_user_id, NULL::TIMESTAMP AS starts_at,
             NULL::TIMESTAMP AS ends_at, NULL::VARCHAR AS source
      FROM range({learners}) AS t(i))
TO '{root}/enrollment/data.parquet' (FORMAT PARQUET);
COPY (SELECT 'bench' AS course_id, 'Bench' AS title,
             [('lecture-' || k) FOR k IN range({lectures})]::VARCHAR[] AS media_content_keys)
TO '{root}/course/data.parquet' (FORMAT PARQUET);
