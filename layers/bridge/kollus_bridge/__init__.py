"""kollus-lms-bridge: Kollus LMS callbacks in, learners' viewing progress out."""
