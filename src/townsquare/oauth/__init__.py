"""OAuth 2 for third-party apps: registered apps, authorization codes and app access tokens.

An app's access token for a user belongs to a login session (`refresh_session`), so logout,
password change and account deletion end it exactly as they end the native tokens.
"""
