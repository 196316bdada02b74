"""First render of the People page in headless chromium: from navigation to every card of the first page shown
with its face image decoded. usage: gallery_render.py BASE_URL [RUNS]; prints the median and the runs (ms)."""
import statistics
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

base, runs = sys.argv[1].rstrip("/"), int(sys.argv[2]) if len(sys.argv) > 2 else 5
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)
ready = ("const cards = document.querySelectorAll('.people .card img');"
         "return cards.length > 0 && [...cards].every(i => i.complete && i.naturalWidth > 0) ? cards.length : 0")
times, cards = [], 0
for run in range(runs + 1):
    driver.get("about:blank")
    started = time.perf_counter()
    driver.get(base + "/#/people")
    cards = WebDriverWait(driver, 30, poll_frequency=0.005).until(lambda d: d.execute_script(ready))
    if run > 0:  # the first run warms the browser's own start-up
        times.append((time.perf_counter() - started) * 1000)
driver.quit()
print(f"median {statistics.median(times):.0f} ms ({', '.join(f'{t:.0f}' for t in times)}), {cards} cards")
