"""The pages' words in Korean and English: labels, learners' statuses, and Kollus's device names and
player codes in words. Pure data."""

from __future__ import annotations

LANGUAGES = ("ko", "en")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "content": "Lecture insights", "as_of": "As of", "learners": "Learners counted", "stale": "updating",
        "heat": "Who watched each part", "coverage": "Watched", "rewatch": "Rewatched", "reach": "How far learners get",
        "funnel": "Progress funnel", "started": "Started", "reached_25": "25%", "reached_50": "50%",
        "reached_75": "75%", "reached_90": "90%", "completed": "Completed", "environment": "Where they watch",
        "device": "Device", "player": "Player", "host": "Site", "sessions": "Sessions", "table": "Learners",
        "learner": "Learner", "status": "Status", "progress": "Progress", "strip": "Per part",
        "minutes": "Minutes (unique / content / wall)", "data": "Data", "block": "Part", "from": "From", "to": "To",
        "computing": "These figures are being computed: load the page again in a few seconds.",
        "refresh_now": "Load again", "none": "No learner yet.",
        "hard": "Parts learners replay", "skipped": "Parts learners skip", "left": "Still to watch",
        "time_left": "Time left at your pace", "you": "You", "class": "Class", "your_contents": "Your lectures",
        "legend": "Legend", "not_viewed": "not viewed", "touched": "touched", "once": "once", "twice": "twice",
        "more": "more", "title": "Title", "done": "Nothing left: you have watched every part.",
        "median": "median", "not_started": "Not started", "stalled": "stalled", "wall": "wall time",
        "class_key": "The darker a part, the more of the class has watched it.",
        "expired": "This link has expired", "completed_on": "Completed", "last_active": "Last active",
        "cell_watched": "Part {n} ({start}\u2013{end}): watched by {count} of {total} ({share}%)",
        "cell_rewatched": "Part {n} ({start}\u2013{end}): watched more than once by {count} of {total}",
        "heat_caption": "Each cell is a part of the lecture. Top row: the darker, the more of the {total} learners "
                        "counted watched it; lower row: those who watched it more than once. Point at a cell for "
                        "its figures; Data lists them all.",
        "scale": "Colour scale", "scale_low": "no one", "scale_high": "everyone", "summary": "At a glance",
        "enrolled": "Enrolled", "rate": "Completion rate", "median_watch": "Median watch time",
        "median_progress": "Median progress", "flagged": "Flagged sessions", "shown": "{shown} of {total} learners.",
        "first_page": "First page", "next_page": "Next page",
        "expired_hint": "Links to these pages last a short while. Open the page again from your course.",
        "activity": "Activity, last 30 days", "active": "Learners active", "completions": "Completions",
        "day": "Day", "cell_day": "{date}: {active} learners active, {completed} completed",
        "course": "Course", "lecture": "Lecture", "drop_off": "Steepest drop", "lectures": "Lectures in order",
        "drop_words": "{start}\u2013{end} (\u2212{count})", "computing_short": "computing",
        "course_caption": "Each row is a lecture of the course, in order. Steepest drop: the part where the most "
                          "learners stop going further. Open a lecture for its own page.",
        "course_none": "This course holds no lecture yet.", "median_short": "Median progress",
    },
    "ko": {
        "content": "강의 분석", "as_of": "기준 시각", "learners": "집계한 수강생", "stale": "갱신 중",
        "heat": "구간별 시청", "coverage": "시청", "rewatch": "반복 시청", "reach": "어디까지 보았나",
        "funnel": "진도 단계", "started": "시작", "reached_25": "25%", "reached_50": "50%",
        "reached_75": "75%", "reached_90": "90%", "completed": "완료", "environment": "시청 환경",
        "device": "기기", "player": "플레이어", "host": "사이트", "sessions": "세션", "table": "수강생",
        "learner": "수강생", "status": "상태", "progress": "진도율", "strip": "구간별",
        "minutes": "시간(분: 고유 / 재생 / 체류)", "data": "데이터", "block": "구간", "from": "시작", "to": "끝",
        "computing": "분석을 계산하고 있습니다. 몇 초 뒤에 페이지를 다시 불러오세요.",
        "refresh_now": "다시 불러오기", "none": "아직 수강생이 없습니다.",
        "hard": "반복해서 본 구간", "skipped": "건너뛴 구간", "left": "남은 구간",
        "time_left": "내 속도로 남은 시간", "you": "나", "class": "수강생 전체", "your_contents": "내 강의",
        "legend": "범례", "not_viewed": "안 봄", "touched": "잠깐", "once": "한 번", "twice": "두 번",
        "more": "여러 번", "title": "제목", "done": "남은 구간이 없습니다. 모든 구간을 보았습니다.",
        "median": "중앙값", "not_started": "시작 전", "stalled": "멈춤", "wall": "체류 시간",
        "class_key": "색이 진할수록 더 많은 수강생이 본 구간입니다.",
        "expired": "링크가 만료되었습니다", "completed_on": "완료", "last_active": "최근 시청",
        "cell_watched": "{n}구간 ({start}\u2013{end}): {total}명 중 {count}명 시청 ({share}%)",
        "cell_rewatched": "{n}구간 ({start}\u2013{end}): {total}명 중 {count}명이 두 번 이상 시청",
        "heat_caption": "칸 하나가 강의의 한 구간입니다. 위 줄은 집계한 수강생 {total}명 중 그 구간을 본 사람이 "
                        "많을수록 진하고, 아래 줄은 두 번 이상 본 수강생입니다. 칸을 가리키면 숫자가 보이고, "
                        "'데이터'에 모두 있습니다.",
        "scale": "색 범례", "scale_low": "0명", "scale_high": "전원", "summary": "한눈에 보기",
        "enrolled": "등록", "rate": "완료율", "median_watch": "시청 시간 중앙값", "median_progress": "진도율 중앙값",
        "flagged": "의심 세션", "shown": "수강생 {total}명 중 {shown}명.", "first_page": "첫 페이지",
        "next_page": "다음 페이지",
        "expired_hint": "이 페이지의 링크는 잠시 동안만 쓸 수 있습니다. 강의실에서 페이지를 다시 여세요.",
        "activity": "최근 30일 활동", "active": "시청한 수강생", "completions": "완료", "day": "날짜",
        "cell_day": "{date}: {active}명 시청, {completed}명 완료", "course": "과정", "lecture": "강의",
        "drop_off": "가장 많이 그만둔 구간", "lectures": "강의 순서대로",
        "drop_words": "{start}\u2013{end} ({count}명 이탈)", "computing_short": "계산 중",
        "course_caption": "한 줄이 과정의 강의 하나이며 순서대로 있습니다. '가장 많이 그만둔 구간'은 가장 많은 "
                          "수강생이 더 나아가지 않은 구간입니다. 강의를 누르면 그 강의의 페이지가 열립니다.",
        "course_none": "이 과정에는 아직 강의가 없습니다.", "median_short": "진도율 중앙값",
    },
}  # fmt: skip

#: A learner's status on a content, in plain words (the funnel's "started" is a stage, not a status).
STATUS_WORDS = {
    "en": {"not_started": "Not started", "started": "In progress", "stalled": "Stalled", "completed": "Completed"},
    "ko": {"not_started": "시작 전", "started": "진행 중", "stalled": "멈춤", "completed": "완료"},
}
#: What the environment tables list, in words: Kollus's device names and player codes (`khp` the HTML5
#: player, `kfp` the retired Flash player, an install id the Kollus Player app).
ENVIRONMENT_WORDS = {
    "en": {"PC": "PC", "tablet": "Tablet", "mobile": "Mobile", "app": "Kollus Player app",
           "khp": "Web player (HTML5)", "kfp": "Flash player (retired)", "unknown": "Not reported"},
    "ko": {"PC": "PC", "tablet": "태블릿", "mobile": "모바일", "app": "Kollus 플레이어 앱",
           "khp": "웹 플레이어(HTML5)", "kfp": "플래시 플레이어(지원 종료)", "unknown": "알 수 없음"},
}  # fmt: skip


def status_word(status: str, lang: str) -> str:
    return STATUS_WORDS[lang].get(status, status)
