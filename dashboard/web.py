"""What ``knotwork serve`` runs: the dashboard (``streamlit_app.py``) behind :mod:`dashboard.web_guard`.

``streamlit run`` finds the ``app`` below and serves it with the same flags; AppTest and the pages
keep using ``streamlit_app.py`` itself.
"""

import streamlit as st
from starlette.middleware import Middleware

from dashboard.web_guard import SecurityMiddleware

app = st.App("streamlit_app.py", middleware=[Middleware(SecurityMiddleware)])
