-- wrk: POST /api/v1/auth/token (form) as LOGIN_USER / LOGIN_PASSWORD, for a login storm.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "username=" .. os.getenv("LOGIN_USER") .. "&password=" .. os.getenv("LOGIN_PASSWORD")
