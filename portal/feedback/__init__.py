"""Service ratings (好差评), complaints, suggestions, consultations and follow-ups: /familyplanning/feedback/."""
