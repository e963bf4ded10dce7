"""The Kubernetes emulator's HTTP side: framing, routing URLs to the API, watch streams.

``server`` speaks HTTP/1.1 on the sandbox's loopback server, ``app`` turns a request into a
call on the API (or a watch stream) and applies request faults, ``routing`` maps URL paths to
resources, ``watch`` replays and follows store events for one watch request.

Must not: decide what a verb does to an object (``api`` does) or run controllers.
"""
