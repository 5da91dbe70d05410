-- wrk: adds `Authorization: Bearer $TOKEN` to every request.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
