"""The Excel add-in (optional extra `deliverypack[excel]`, with xlwings).

Only this package imports xlwings; the engine never does.
"""
