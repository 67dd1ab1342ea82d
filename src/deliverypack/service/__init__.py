"""The collection service: departments upload returns in a browser and know at once.

`create_app(workspace)` gives the Starlette app; `deliverypack serve` runs it with uvicorn.
The engine underneath is the one `ingest` uses; the service adds accounts, sign-off,
reminders, an audit log and a JSON API, in its own tables of the same ledger.
"""
