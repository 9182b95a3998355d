-- Lectures that lose learners fastest, against lectures of similar length: per content, the share
-- of its learners counted who get at least half-way (their furthest watched block at or past the
-- middle one), beside the median of that share over the contents of its length band (whole
-- 10-minute bands); those furthest below their band's median first.
-- Result: media_content_key, duration, band_minutes, learners, half_way_share, band_contents,
--         band_median_share, below_band
WITH halves AS (
    SELECT c.media_content_key, max(c.block_length * c.block_count) AS duration, count(*) AS learners,
           1.0 * count(*) FILTER (WHERE list_max(c.watched) >= floor(c.block_count / 2.0)) / count(*) AS share
    FROM counted AS c
    GROUP BY c.media_content_key
), banded AS (
    SELECT media_content_key, duration, learners, share, 10 * floor(duration / 600.0) AS band_minutes,
           row_number() OVER (PARTITION BY floor(duration / 600.0) ORDER BY share) AS position,
           count(*) OVER (PARTITION BY floor(duration / 600.0)) AS band_contents
    FROM halves
), medians AS (
    SELECT band_minutes, avg(share) AS band_median_share
    FROM banded
    WHERE position IN (floor((band_contents + 1) / 2.0), floor((band_contents + 2) / 2.0))
    GROUP BY band_minutes
)
SELECT b.media_content_key, b.duration, b.band_minutes, b.learners, round(b.share, 3) AS half_way_share,
       b.band_contents, round(m.band_median_share, 3) AS band_median_share,
       round(m.band_median_share - b.share, 3) AS below_band
FROM banded AS b
JOIN medians AS m ON m.band_minutes = b.band_minutes
ORDER BY below_band DESC, b.media_content_key
