"""First-response figures on real data (TWCS head5000), checked against the file itself.

Each brand is imported into its own account with `--brand`, and the report's median and
p90 per account are compared with figures computed straight from the CSV.

What the truth is: caremgr keeps one case per customer and account while it is open (an
import resolves nothing, so each customer has one case), and a brand's reply answers the
customer it replies to. So for each customer who wrote to the brand (in a thread the brand
wrote in, or mentioning @brand) and was answered: the time of their first tweet to the brand
→ the brand's first reply to them (a brand tweet whose nearest customer tweet up the reply
chain is theirs). Counting per thread instead disagrees, and caremgr is right there: a
customer who opens two threads minutes apart has one case whose clock starts at the first
tweet, and in a thread where a second customer joins and only they get an answer, the
first customer was never answered.
"""

import csv
import re
from collections import defaultdict
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from cases.models import Case
from cases.reports import sla_report
from cases.reports_percentiles import percentile
from tests.conftest import make_account, shared_data

BRANDS = ["ChipotleTweets", "AmazonHelp", "AppleSupport", "Uber_Support", "Delta"]
# The file spans Oct–Dec 2017, with a few threads that began as early as 2016.
PERIOD = (datetime(2010, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def slug_of(brand: str) -> str:
    return brand.lower().replace("_", "-")


class Tweets:
    """The CSV as read by the csv module, with the reply chains walked by hand."""

    def __init__(self, path):
        with open(path, encoding="utf-8", newline="") as handle:
            self.rows = list(csv.DictReader(handle))
        self.by_id = {row["tweet_id"]: row for row in self.rows}
        self.brands = {row["author_id"] for row in self.rows if row["inbound"] == "False"}

    @staticmethod
    def time(row) -> datetime:
        return datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")

    def root(self, tweet_id: str) -> str:
        for _ in range(len(self.rows)):
            parent = self.by_id[tweet_id]["in_response_to_tweet_id"]
            if not parent or parent not in self.by_id:
                break
            tweet_id = parent
        return tweet_id

    def customer_answered(self, row) -> str | None:
        parent = row["in_response_to_tweet_id"]
        while parent and parent in self.by_id:
            if self.by_id[parent]["author_id"] not in self.brands:
                return self.by_id[parent]["author_id"]
            parent = self.by_id[parent]["in_response_to_tweet_id"]
        return None

    def first_responses(self, brand: str) -> dict[str, float]:
        """{customer: seconds from their first tweet to the brand's first reply to them}."""
        threads = {self.root(r["tweet_id"]) for r in self.rows if r["author_id"] == brand}
        mention = re.compile(rf"@{re.escape(brand)}\b", re.IGNORECASE)
        first_tweet: dict[str, datetime] = {}
        for row in self.rows:
            to_brand = self.root(row["tweet_id"]) in threads or mention.search(row["text"])
            if row["inbound"] == "True" and to_brand:
                at, customer = self.time(row), row["author_id"]
                first_tweet[customer] = min(first_tweet.get(customer, at), at)
        replies: dict[str, list[datetime]] = defaultdict(list)
        for row in self.rows:
            if row["author_id"] == brand and (customer := self.customer_answered(row)):
                replies[customer].append(self.time(row))
        seconds = {}
        for customer, times in replies.items():
            start = first_tweet.get(customer)
            later = [t for t in times if start is not None and t >= start]
            if later:
                seconds[customer] = (min(later) - start).total_seconds()
        return seconds


@pytest.fixture(scope="module")
def head5000():
    return shared_data("twcs", "twcs_head5000.csv")


@pytest.fixture(scope="module")
def tweets(head5000):
    return Tweets(head5000)


@pytest.fixture(scope="module")
def imported(head5000, django_db_setup, django_db_blocker):
    """Each brand in its own account, imported once for the module and rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        for brand in BRANDS:
            make_account(platform="x", slug=slug_of(brand))
            call_command(
                "import_messages",
                str(head5000),
                format="twcs",
                account=slug_of(brand),
                brand=brand,
                stdout=StringIO(),
                verbosity=0,
            )
        yield
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_median_and_p90_per_brand_match_the_file(imported, tweets):
    groups = {g["key"]: g for g in sla_report(*PERIOD, "account")["groups"]}

    for brand in BRANDS:
        truth = list(tweets.first_responses(brand).values())
        group = groups[slug_of(brand)]
        assert group["responded"] == len(truth), brand
        for name, fraction in (("median", 0.5), ("p90", 0.9)):
            expected = percentile(truth, fraction)
            assert group["first_response"][name] == pytest.approx(expected, abs=1), (brand, name)


@pytest.mark.django_db
def test_every_answered_customer_has_the_first_response_of_the_file(imported, tweets):
    for brand in BRANDS:
        cases = Case.objects.filter(account__slug=slug_of(brand), first_response_at__isnull=False)
        found = dict(cases.values_list("contact__external_id", "first_response_seconds"))
        assert found == pytest.approx(tweets.first_responses(brand), abs=1), brand
