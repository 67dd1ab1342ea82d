"""Foundation: what every layer above uses and nothing here imports from them: faults,
reporting periods, the programme's vocabulary (domain), atomic files, shipped resources."""
