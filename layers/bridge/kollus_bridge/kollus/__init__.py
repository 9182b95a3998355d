"""Kollus's wire formats: what Kollus sends us (`callback`) and what we sign for it (`playback`)."""
