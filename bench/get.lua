-- wrk script: GET a page as one logged-in patient (KP_COOKIE).
wrk.headers["Cookie"] = "kp_session=" .. os.getenv("KP_COOKIE")
wrk.headers["Accept-Encoding"] = "gzip"
