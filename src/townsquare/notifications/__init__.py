"""Notifications of likes, comments and follows: made by the job worker, read and streamed by the owner."""
