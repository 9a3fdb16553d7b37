"""Outbound calls: a flow's `outbound:` settings, placing calls at Twilio, and their records.

`settings` reads what a flow asks for (caller ID, answering-machine detection, ring timeout,
the machine node); `dialer` places one call through the twilio SDK's async client and judges
Twilio's answer; `attempts` keeps every placed call durable in the store, so a crash between
asking Twilio and hearing back never places the same attempt twice.
"""
