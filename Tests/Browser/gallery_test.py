"""The web gallery in a real browser: Debian's chromium, driven headless by selenium through chromedriver.

usage: python3 gallery_test.py BASE_URL SCREENSHOT_DIR SAMPLE_PHOTO

Runs against a `facecluster serve` whose library was ingested from the labeled photos (Tests/Browser/run.sh
sets that up). Each check prints one line; the exit status is the number of failed checks.
"""
import json
import os
import random
import sys
import tempfile
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE, SHOTS, SAMPLE = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
os.makedirs(SHOTS, exist_ok=True)


def api(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + "/api" + path, data=data, method=method,
                                     headers={"content-type": "application/json"} if data else {})
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def listing(path, key):
    """Every item of a paged listing (`path` with its limit), following nextCursor."""
    items, cursor = [], None
    while True:
        page = api("GET", path + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
        items += page[key]
        cursor = page.get("nextCursor")
        if not cursor:
            return items


def all_people():
    people, cursor = [], None
    while True:
        page = api("GET", "/people?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        people += page["people"]
        cursor = page.get("nextCursor")
        if not cursor:
            return people


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
# A page re-renders after each answer: an element found a moment ago may be gone when read, so waits retry on it.
wait = WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,))
failures = 0


def check(name):
    def decorate(function):
        global failures
        try:
            function()
            print(f"ok   {name}")
        except Exception:  # noqa: BLE001 - every failure is reported with its trace, then the next check runs
            failures += 1
            print(f"FAIL {name}")
            traceback.print_exc()
            driver.save_screenshot(os.path.join(SHOTS, "failure-" + name.split()[0] + ".png"))
        return function
    return decorate


def open_page(hash_route):
    driver.get(BASE + "/" + hash_route)
    wait.until(lambda d: d.execute_script("return document.querySelector('main h1') !== null"))


def images_loaded():
    return driver.execute_script(
        "return [...document.querySelectorAll('main img')].every(i => i.complete && i.naturalWidth > 0)")


def card_count():
    return len(driver.find_elements(By.CSS_SELECTOR, ".people .card"))


@check("people: one card per listed person, every face image loaded, alt texts on every image")
def people_page():
    open_page("#/people")
    expected = len(all_people())
    wait.until(lambda d: card_count() == expected)
    wait.until(lambda d: images_loaded())
    for image in driver.find_elements(By.CSS_SELECTOR, "main img"):
        assert image.get_attribute("alt"), "a face image without alt text"
    counts = [int(e.text.split()[0]) for e in driver.find_elements(By.CSS_SELECTOR, ".card .count")]
    assert counts == sorted(counts, reverse=True), f"not most photos first: {counts}"
    driver.save_screenshot(os.path.join(SHOTS, "people-1280.png"))


@check("people at 375 px: no sideways scrolling, two cards a row")
def narrow():
    driver.set_window_size(375, 812)
    open_page("#/people")
    wait.until(lambda d: card_count() > 0 and images_loaded())
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px of sideways scrolling"
    tops = driver.execute_script("return [...document.querySelectorAll('.card')].slice(0, 2).map(c => c.getBoundingClientRect().top)")
    assert len(tops) < 2 or abs(tops[0] - tops[1]) < 1, "the first two cards are not side by side"
    driver.save_screenshot(os.path.join(SHOTS, "people-375.png"))
    driver.set_window_size(1280, 900)


@check("keyboard: Tab reaches a person's card and Enter opens the person")
def keyboard():
    open_page("#/people")
    wait.until(lambda d: card_count() > 0)
    body = driver.find_element(By.TAG_NAME, "body")
    for _ in range(12):
        body = driver.switch_to.active_element
        body.send_keys(Keys.TAB)
        href = driver.switch_to.active_element.get_attribute("href") or ""
        if "#/people/p_" in href:
            break
    else:
        raise AssertionError("Tab never reached a person's card")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait.until(lambda d: "#/people/p_" in d.current_url and d.find_elements(By.CSS_SELECTOR, ".name-input"))


@check("rename in place: the name is saved, shown, and listed")
def rename():
    person = all_people()[0]
    open_page(f"#/people/{person['id']}")
    field = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, ".name-input")))
    field.clear()
    field.send_keys("Ada Lovelace", Keys.ENTER)
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "main h1").text == "Ada Lovelace")
    assert api("GET", f"/people/{person['id']}")["name"] == "Ada Lovelace"
    open_page("#/people")
    wait.until(lambda d: any(e.text == "Ada Lovelace" for e in d.find_elements(By.CSS_SELECTOR, ".card .name")))


@check("merge through the picker: counts change on the page and in the API")
def merge():
    before = all_people()
    target, source = before[0], before[-1]
    open_page(f"#/people/{target['id']}")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".photos .tile"))
    driver.find_element(By.XPATH, "//button[starts-with(., 'Merge with')]").click()
    pick = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"dialog .pick[data-person-id='{source['id']}']")))
    driver.save_screenshot(os.path.join(SHOTS, "merge-picker.png"))
    pick.click()
    total = target["photoCount"] + source["photoCount"]
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".person-head .count").text == f"{total} photos")
    after = all_people()
    assert len(after) == len(before) - 1, f"{len(before)} people before, {len(after)} after"
    assert next(p for p in after if p["id"] == target["id"])["photoCount"] == total
    open_page("#/people")
    wait.until(lambda d: card_count() == len(after))


@check("photo: every drawn box is where the API's box is, labelled, and opens its person")
def photo_boxes():
    person = all_people()[0]
    photo_id = api("GET", f"/people/{person['id']}/photos?limit=1")["photos"][0]["photoId"]
    photo = api("GET", f"/photos/{photo_id}")
    open_page(f"#/photos/{photo_id}")
    wait.until(lambda d: images_loaded())
    image = driver.execute_script("const r = document.querySelector('.frame img').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]")
    boxes = driver.find_elements(By.CSS_SELECTOR, ".frame .box")
    assert len(boxes) == len(photo["faces"]) > 0, f"{len(boxes)} boxes drawn, {len(photo['faces'])} faces"
    for box in boxes:
        face = next(f for f in photo["faces"] if f["faceId"] == box.get_attribute("data-face-id"))
        drawn = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height]", box)
        expected = face["boundingBox"]
        want = [image[0] + max(expected["left"], 0) * image[2], image[1] + max(expected["top"], 0) * image[3]]
        assert abs(drawn[0] - want[0]) <= 2 and abs(drawn[1] - want[1]) <= 2, f"box at {drawn[:2]}, API says {want}"
        assert abs(drawn[2] - min(expected["width"], 1 - max(expected["left"], 0)) * image[2]) <= 3
        assert box.get_attribute("aria-label")
    driver.save_screenshot(os.path.join(SHOTS, "photo-1280.png"))
    boxes[0].click()
    wait.until(lambda d: "#/people/p_" in d.current_url)


@check("not this person: the face leaves for a new person; Review's History undoes it exactly")
def not_this_person():
    person = all_people()[0]
    photo_id = api("GET", f"/people/{person['id']}/photos?limit=1")["photos"][0]["photoId"]
    open_page(f"#/photos/{photo_id}")
    wait.until(lambda d: d.find_elements(By.XPATH, "//button[.='Not this person']"))
    driver.find_element(By.XPATH, "//button[.='Not this person']").click()
    wait.until(lambda d: "person of its own" in d.find_element(By.CSS_SELECTOR, "main [role=status]").text)
    assert api("GET", f"/people/{person['id']}")["photoCount"] == person["photoCount"] - 1
    open_page("#/review")
    first = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".history li[data-operation-id]"))[0]
    assert "moved face" in first.text, first.text
    driver.save_screenshot(os.path.join(SHOTS, "review-1280.png"))
    first.find_element(By.XPATH, ".//button[.='Undo']").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".history li[data-state='undone']"))
    assert api("GET", f"/people/{person['id']}")["photoCount"] == person["photoCount"]


@check("unassigned faces: shown on Review; Make a person lists them among the people")
def unassigned():
    before = all_people()
    waiting = api("GET", "/faces/unassigned")["faces"]
    assert waiting, "the sample library should have a face seen once (biden)"
    # Its photo labels it as unassigned, and so does its group's page, which says what to do.
    photo = api("GET", f"/photos/{api('GET', '/people/' + waiting[0]['personId'] + '/photos')['photos'][0]['photoId']}")
    assert any(face["unassigned"] for face in photo["faces"]), photo["faces"]
    open_page(f"#/people/{waiting[0]['personId']}")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Unassigned face"
    assert "seen too few times" in wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".unassigned-note")).text
    open_page("#/review")
    tile = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f".face-tile[data-face-id='{waiting[0]['faceId']}']"))[0]
    wait.until(lambda d: images_loaded())
    tile.find_element(By.XPATH, ".//button[.='Make a person']").click()
    wait.until(lambda d: "#/people/p_" in d.current_url and d.find_elements(By.CSS_SELECTOR, ".name-input"))
    assert len(all_people()) == len(before) + 1


def damaged_copy(path):
    data = bytearray(open(path, "rb").read())
    start = data.index(b"\xff\xda") + 200
    generator = random.Random(7)
    for offset in range(start + (len(data) - start) // 2, len(data) - 2):
        data[offset] = generator.randrange(0, 0xFF)
    handle = tempfile.NamedTemporaryFile(suffix=".jpg", prefix="broken-", delete=False)
    handle.write(data)
    handle.close()
    return handle.name


@check("upload: per-file progress and result; a damaged photo's reason; a non-photo refused; Status lists the failure")
def upload():
    broken = damaged_copy(SAMPLE)
    notes = tempfile.NamedTemporaryFile(suffix=".jpg", prefix="notes-", delete=False)
    notes.write(b"not a photo at all")
    notes.close()
    open_page("#/upload")
    field = driver.find_element(By.CSS_SELECTOR, "input[type=file]")
    field.send_keys("\n".join([SAMPLE, broken, notes.name]))
    rows = lambda: driver.find_elements(By.CSS_SELECTOR, ".uploads .upload")  # noqa: E731
    wait.until(lambda d: len(rows()) == 3)
    long_wait = WebDriverWait(driver, 90, ignored_exceptions=(StaleElementReferenceException,))
    long_wait.until(lambda d: all(r.get_attribute("data-status") for r in rows()))
    results = {r.get_attribute("data-file"): (r.get_attribute("data-status"), r.find_element(By.CSS_SELECTOR, ".result").text) for r in rows()}
    driver.save_screenshot(os.path.join(SHOTS, "upload-1280.png"))
    sample = results[os.path.basename(SAMPLE)]
    assert sample[0] == "indexed" and "1 face found" in sample[1], sample
    failed = results[os.path.basename(broken)]
    assert failed[0] == "failed" and "damaged_image" in failed[1], failed
    refused = results[os.path.basename(notes.name)]
    assert refused[0] == "refused" and "unsupported_media_type" in refused[1], refused
    open_page("#/status")
    long_wait.until(lambda d: any(os.path.basename(broken) in e.text for e in d.find_elements(By.CSS_SELECTOR, ".status-list li.failed")))
    row = next(e for e in driver.find_elements(By.CSS_SELECTOR, ".status-list li.failed") if os.path.basename(broken) in e.text)
    assert "damaged_image" in row.text, row.text
    driver.save_screenshot(os.path.join(SHOTS, "status-1280.png"))


@check("history: the newest 20 operations, then Show older operations lists the rest")
def history_pages():
    person = all_people()[0]
    for number in range(22):
        api("PATCH", f"/people/{person['id']}", {"name": f"Name {number}"})
    total = len(listing("/operations?limit=100", "operations"))
    rows = lambda d: d.find_elements(By.CSS_SELECTOR, ".history li[data-operation-id]")
    open_page("#/review")
    wait.until(lambda d: len(rows(d)) == 20)
    while True:
        buttons = [b for b in driver.find_elements(By.XPATH, "//button[.='Show older operations']") if b.is_displayed()]
        if not buttons:
            break
        shown = len(rows(driver))
        buttons[0].click()
        wait.until(lambda d: len(rows(d)) > shown)
    assert len(rows(driver)) == total, f"{len(rows(driver))} of {total} operations listed"
    api("PATCH", f"/people/{person['id']}", {"name": person.get("name")})


@check("a photo opened directly at 375 px: no sideways scrolling; deleting it says so where it was")
def delete_photo():
    # A photo with a long name without spaces (uploaded here; other bytes than the sample's): it must wrap, not
    # widen the page.
    name = "Arnold_Schwarzenegger_at_the_Golden_Globes_press_room_0007.jpg"
    path = os.path.join(tempfile.mkdtemp(), name)
    with open(path, "wb") as handle:
        handle.write(open(SAMPLE, "rb").read() + b"\0" * 16)
    open_page("#/upload")
    driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(path)
    WebDriverWait(driver, 90, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".uploads .upload").get_attribute("data-status") == "indexed")
    photo_id = next(p["id"] for p in listing("/photos?limit=100", "photos") if p["name"] == name)
    driver.set_window_size(375, 812)
    open_page(f"#/photos/{photo_id}")
    wait.until(lambda d: d.find_elements(By.XPATH, "//button[.='Delete photo…']"))
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px of sideways scrolling"
    driver.save_screenshot(os.path.join(SHOTS, "photo-375.png"))
    driver.set_window_size(1280, 900)
    driver.find_element(By.XPATH, "//button[.='Delete photo…']").click()
    wait.until(EC.element_to_be_clickable((By.XPATH, "//dialog//button[.='Delete']"))).click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Photo deleted")
    assert "no longer in the gallery" in driver.find_element(By.CSS_SELECTOR, "main [role=status]").text
    try:
        api("GET", f"/photos/{photo_id}")
        raise AssertionError("the deleted photo still answers")
    except urllib.error.HTTPError as error:
        assert error.code == 404, error.code


@check("forget with a confirmation: Cancel keeps the person, Forget removes them")
def forget():
    before = all_people()
    person = before[-1]
    open_page(f"#/people/{person['id']}")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".name-input"))
    driver.find_element(By.XPATH, "//button[starts-with(., 'Forget this')]").click()
    wait.until(EC.element_to_be_clickable((By.XPATH, "//dialog//button[.='Cancel']"))).click()
    assert len(all_people()) == len(before)
    driver.find_element(By.XPATH, "//button[starts-with(., 'Forget this')]").click()
    wait.until(EC.element_to_be_clickable((By.XPATH, "//dialog//button[.='Forget']"))).click()
    wait.until(lambda d: d.current_url.endswith("#/people"))
    assert len(all_people()) == len(before) - 1


driver.quit()
print(f"{failures} failed" if failures else "all browser checks passed")
sys.exit(failures)
