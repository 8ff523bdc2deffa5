"""Seeded reference data for a sandbox company's ledger, one style per platform.

`seed_ledger()` returns the data types the Expenses product reads on link
(chartOfAccounts, taxRates, trackingCategories, suppliers, customers, bankAccounts,
company) as lists of records in Codat's own JSON shapes (camelCase). `index_ledger()`
turns that into the `data type -> id -> record` form the rules module works on.

Every ledger deliberately contains the awkward records the rules need to be exercised
against: an archived expense account, an expense account valid for Payment only, an
archived tax rate, an archived tracking option, an archived supplier/customer/bank
account, a multi-currency supplier and foreign-currency cards.

Money is `decimal.Decimal` (balances, tax rates); dates are ISO 8601 strings.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from codat_sandbox.platforms import EXPENSE_TYPES, PLATFORMS, Platform

DATA_TYPES = (
    "chartOfAccounts",
    "taxRates",
    "trackingCategories",
    "suppliers",
    "customers",
    "bankAccounts",
    "company",
)

ACCOUNT_TYPES = ("Asset", "Liability", "Income", "Expense", "Equity")
VALID_FOR = (
    "expense-transactions.Payment",
    "expense-transactions.Refund",
    "expense-transactions.Reward",
    "expense-transactions.Chargeback",
    "reimbursable-expense-transactions",
    "transfer-transactions",
    "adjustment-transactions",
)

# --- account kinds -----------------------------------------------------------------
# What an account of each kind can be used for, before the platform's own support is
# applied. Expense accounts take Payment/Refund/Chargeback (a refund or chargeback
# reverses spend on the same expense account); cashback rewards go to income.
_ALL_EXPENSE_VALID_FOR = ("Payment", "Refund", "Chargeback")


@dataclass(frozen=True)
class _Kind:
    account_type: str
    is_bank: bool
    transaction_types: tuple[str, ...]
    reimbursable: bool
    transfer: bool
    adjustment: bool
    bank_account_type: str | None = None  # BankAccount.accountType for bank/card kinds


_KINDS = {
    "bank": _Kind("Asset", True, (), False, True, True, "Debit"),
    "card": _Kind("Liability", True, (), False, True, True, "Credit"),
    "expense": _Kind("Expense", False, _ALL_EXPENSE_VALID_FOR, True, False, True),
    "expense_payment_only": _Kind("Expense", False, ("Payment",), True, False, True),
    "reward_income": _Kind("Income", False, ("Reward", "Refund"), False, False, True),
    "income": _Kind("Income", False, (), False, False, True),
    "ap": _Kind("Liability", False, (), False, False, True),
    "liability": _Kind("Liability", False, (), False, False, True),
    "equity": _Kind("Equity", False, (), False, False, True),
}

_DESCRIPTIONS = {
    "bank": "Main business current account.",
    "card": "Company card; spend is posted against this account.",
    "expense": "Operating expense.",
    "expense_payment_only": "Fees charged by the bank; spend only.",
    "reward_income": "Cashback and card rewards redeemed.",
    "income": "Revenue from sales.",
    "ap": "Amounts owed to suppliers and employees.",
    "liability": "Sales tax / VAT owed.",
    "equity": "Accumulated profits.",
}

# Row: (id or None to generate, nominal code, name, kind, fullyQualifiedCategory,
#       currency or None for base, archived, bank account id override)
_Row = tuple[str | None, str | None, str, str, str, str | None, bool, str | None]


def _r(
    id_: str | None,
    code: str | None,
    name: str,
    kind: str,
    fqc: str,
    currency: str | None = None,
    archived: bool = False,
    bank_id: str | None = None,
) -> _Row:
    return (id_, code, name, kind, fqc, currency, archived, bank_id)


# QuickBooks Online: small integer ids, no account numbers by default, detailed categories.
_QBO_ACCOUNTS = [
    _r("35", None, "Checking", "bank", "Asset.Bank.Checking"),
    _r("41", None, "Mastercard", "card", "Liability.Credit Card.CreditCard"),
    _r("42", None, "Amex Business (EUR)", "card", "Liability.Credit Card.CreditCard", "EUR"),
    _r("43", None, "Visa (closed)", "card", "Liability.Credit Card.CreditCard", archived=True),
    _r("13", None, "Meals and Entertainment", "expense", "Expense.Expense.EntertainmentMeals"),
    _r("58", None, "Travel", "expense", "Expense.Expense.Travel"),
    _r(
        "19",
        None,
        "Office Expenses",
        "expense",
        "Expense.Expense.OfficeGeneralAdministrativeExpenses",
    ),
    _r("64", None, "Dues & Subscriptions", "expense", "Expense.Expense.DuesSubscriptions"),
    _r("7", None, "Advertising", "expense", "Expense.Expense.AdvertisingPromotional"),
    _r("8", None, "Bank Charges", "expense_payment_only", "Expense.Expense.BankCharges"),
    _r(
        "12",
        None,
        "Printing and Reproduction",
        "expense",
        "Expense.Expense.OfficeExpenses",
        archived=True,
    ),
    _r(
        "80",
        None,
        "Cost of Goods Sold",
        "expense",
        "Expense.Cost of Goods Sold.SuppliesMaterialsCogs",
    ),
    _r("79", None, "Sales of Product Income", "income", "Income.Income.SalesOfProductIncome"),
    _r(
        "90",
        None,
        "Card Cashback Rewards",
        "reward_income",
        "Income.Other Income.OtherMiscellaneousIncome",
    ),
    _r("33", None, "Accounts Payable (A/P)", "ap", "Liability.Accounts Payable.AccountsPayable"),
    _r(
        "89",
        None,
        "Sales Tax Payable",
        "liability",
        "Liability.Other Current Liability.SalesTaxPayable",
    ),
    _r("2", None, "Retained Earnings", "equity", "Equity.Equity.RetainedEarnings"),
]

# Xero: GUID ids, 3-digit codes from the default UK chart.
_XERO_ACCOUNTS = [
    _r(None, "090", "Business Bank Account", "bank", "Asset.Current"),
    _r(None, "091", "Business Credit Card", "card", "Liability.Current"),
    _r(None, "092", "USD Credit Card", "card", "Liability.Current", "USD"),
    _r(None, "093", "Old Amex", "card", "Liability.Current", archived=True),
    _r(None, "420", "Entertainment", "expense", "Expense.Overhead"),
    _r(None, "429", "General Expenses", "expense", "Expense.Overhead"),
    _r(None, "453", "Office Expenses", "expense", "Expense.Overhead"),
    _r(None, "463", "IT Software and Consumables", "expense", "Expense.Overhead"),
    _r(None, "493", "Travel - National", "expense", "Expense.Overhead"),
    _r(None, "494", "Travel - International", "expense", "Expense.Overhead"),
    _r(None, "404", "Bank Fees", "expense_payment_only", "Expense.Overhead"),
    _r(None, "400", "Advertising", "expense", "Expense.Overhead", archived=True),
    _r(None, "310", "Cost of Goods Sold", "expense", "Expense.DirectCosts"),
    _r(None, "200", "Sales", "income", "Income.Revenue"),
    _r(None, "270", "Card Rewards", "reward_income", "Income.Other"),
    _r(None, "800", "Accounts Payable", "ap", "Liability.Current"),
    _r(None, "820", "VAT", "liability", "Liability.Current"),
    _r(None, "960", "Retained Earnings", "equity", "Equity.Equity"),
]

# NetSuite: internal ids, account numbers as nominal codes.
_NETSUITE_ACCOUNTS = [
    _r("1", "1000", "Operating Account", "bank", "Asset.Bank"),
    _r("212", "2100", "Corporate Amex", "card", "Liability.CreditCard"),
    _r("213", "2110", "Corporate Visa (CAD)", "card", "Liability.CreditCard", "CAD"),
    _r("215", "2130", "Legacy Mastercard", "card", "Liability.CreditCard", archived=True),
    _r("58", "6100", "Meals & Entertainment", "expense", "Expense.Expense"),
    _r("59", "6110", "Travel", "expense", "Expense.Expense"),
    _r("60", "6120", "Office Supplies", "expense", "Expense.Expense"),
    _r("61", "6130", "Software Subscriptions", "expense", "Expense.Expense"),
    _r("62", "6140", "Bank Service Charges", "expense_payment_only", "Expense.Expense"),
    _r("63", "6150", "Trade Shows", "expense", "Expense.Expense", archived=True),
    _r("54", "5000", "Cost of Goods Sold", "expense", "Expense.CostOfGoodsSold"),
    _r("40", "4000", "Sales", "income", "Income.Income"),
    _r("41", "4900", "Card Rebates", "reward_income", "Income.OtherIncome"),
    _r("25", "2000", "Accounts Payable", "ap", "Liability.AccountsPayable"),
    _r("26", "2200", "Sales Tax Payable", "liability", "Liability.OtherCurrentLiability"),
    _r("3", "3000", "Retained Earnings", "equity", "Equity.Equity"),
]

# Sage Intacct: GL account numbers are the ids. Checking and card accounts are separate
# objects in Intacct, so their bank account ids differ from the GL ids.
_INTACCT_ACCOUNTS = [
    _r("1000", "1000", "Cash - Operating", "bank", "Asset.Cash", bank_id="BOA-CHK"),
    _r(
        "2050",
        "2050",
        "Credit Card Payable - Amex",
        "card",
        "Liability.CreditCard",
        bank_id="AMEX-1001",
    ),
    _r(
        "2051",
        "2051",
        "Credit Card Payable - Visa EUR",
        "card",
        "Liability.CreditCard",
        "EUR",
        bank_id="VISA-2002",
    ),
    _r(
        "2059",
        "2059",
        "Credit Card Payable - Old MC",
        "card",
        "Liability.CreditCard",
        archived=True,
        bank_id="MC-0099",
    ),
    _r("6000", "6000", "Travel", "expense", "Expense.Operating Expenses"),
    _r("6010", "6010", "Meals and Entertainment", "expense", "Expense.Operating Expenses"),
    _r("6020", "6020", "Office Supplies", "expense", "Expense.Operating Expenses"),
    _r("6030", "6030", "Software and Subscriptions", "expense", "Expense.Operating Expenses"),
    _r("6040", "6040", "Bank Fees", "expense_payment_only", "Expense.Operating Expenses"),
    _r(
        "6050",
        "6050",
        "Conferences (inactive)",
        "expense",
        "Expense.Operating Expenses",
        archived=True,
    ),
    _r("5000", "5000", "Cost of Revenue", "expense", "Expense.Cost of Revenue"),
    _r("4000", "4000", "Revenue", "income", "Income.Revenue"),
    _r("4900", "4900", "Card Rebates", "reward_income", "Income.Other Income"),
    _r("2000", "2000", "Accounts Payable", "ap", "Liability.Current Liabilities"),
    _r("2300", "2300", "Sales Tax Payable", "liability", "Liability.Current Liabilities"),
    _r("3000", "3000", "Retained Earnings", "equity", "Equity.Equity"),
]

# QuickBooks Desktop: ListIDs ("80000002-1674552702"), generated below.
_QBD_ACCOUNTS = [
    _r(None, "1000", "Checking", "bank", "Asset.Bank"),
    _r(None, "2050", "Visa Card", "card", "Liability.CreditCard"),
    _r(None, "2060", "Amex (CAD)", "card", "Liability.CreditCard", "CAD"),
    _r(None, "2070", "Old Mastercard", "card", "Liability.CreditCard", archived=True),
    _r(None, "6400", "Meals and Entertainment", "expense", "Expense.Expense"),
    _r(None, "6410", "Travel Expense", "expense", "Expense.Expense"),
    _r(None, "6420", "Office Supplies", "expense", "Expense.Expense"),
    _r(None, "6430", "Computer and Internet Expenses", "expense", "Expense.Expense"),
    _r(None, "6120", "Bank Service Charges", "expense_payment_only", "Expense.Expense"),
    _r(None, "6450", "Printing and Reproduction", "expense", "Expense.Expense", archived=True),
    _r(None, "5000", "Cost of Goods Sold", "expense", "Expense.Expense"),
    _r(None, "4000", "Sales", "income", "Income.Income"),
    _r(None, "7010", "Card Rewards", "reward_income", "Income.OtherIncome"),
    _r(None, "2000", "Accounts Payable", "ap", "Liability.AccountsPayable"),
    _r(None, "2200", "Sales Tax Payable", "liability", "Liability.OtherCurrentLiability"),
    _r(None, "3000", "Opening Balance Equity", "equity", "Equity.Equity"),
]

# Dynamics 365 Business Central: GUID ids, G/L account numbers as nominal codes.
_DYNAMICS_ACCOUNTS = [
    _r(None, "20200", "Bank, Current Account", "bank", "Asset.Bank"),
    _r(None, "20210", "Corporate Credit Card", "card", "Liability.CreditCard"),
    _r(None, "20220", "Corporate Card EUR", "card", "Liability.CreditCard", "EUR"),
    _r(None, "20230", "Old Purchasing Card", "card", "Liability.CreditCard", archived=True),
    _r(None, "60100", "Travel", "expense", "Expense.Expense"),
    _r(None, "60110", "Meals and Entertainment", "expense", "Expense.Expense"),
    _r(None, "60120", "Office Supplies", "expense", "Expense.Expense"),
    _r(None, "60130", "Software", "expense", "Expense.Expense"),
    _r(None, "60140", "Bank Charges", "expense_payment_only", "Expense.Expense"),
    _r(None, "60150", "Trade Fairs", "expense", "Expense.Expense", archived=True),
    _r(None, "50100", "Cost of Materials", "expense", "Expense.CostOfGoodsSold"),
    _r(None, "40100", "Sales, Retail", "income", "Income.Income"),
    _r(None, "40900", "Card Cashback", "reward_income", "Income.OtherIncome"),
    _r(None, "54100", "Vendors, Domestic", "ap", "Liability.AccountsPayable"),
    _r(None, "56100", "VAT Payable", "liability", "Liability.Current"),
    _r(None, "30100", "Retained Earnings", "equity", "Equity.Equity"),
]

# FreeAgent: categories are identified by their nominal code; bank accounts by number.
_FREEAGENT_ACCOUNTS = [
    _r("7500001", "750-1", "Business Current Account", "bank", "Asset.Bank"),
    _r("7500002", "750-2", "Business Credit Card", "card", "Liability.CreditCard"),
    _r("7500003", "750-3", "USD Credit Card", "card", "Liability.CreditCard", "USD"),
    _r("7500004", "750-4", "Closed Credit Card", "card", "Liability.CreditCard", archived=True),
    _r("285", "285", "Accommodation and Meals", "expense", "Expense.AdminExpenses"),
    _r("290", "290", "Travel", "expense", "Expense.AdminExpenses"),
    _r("360", "360", "Office Costs", "expense", "Expense.AdminExpenses"),
    _r("365", "365", "Computer Software", "expense", "Expense.AdminExpenses"),
    _r("363", "363", "Bank/Finance Charges", "expense_payment_only", "Expense.AdminExpenses"),
    _r(
        "250", "250", "Advertising and Promotion", "expense", "Expense.AdminExpenses", archived=True
    ),
    _r("101", "101", "Cost of Sales", "expense", "Expense.CostOfSales"),
    _r("001", "001", "Sales", "income", "Income.Turnover"),
    _r("055", "055", "Other Income", "reward_income", "Income.OtherIncome"),
    _r("796", "796", "Accounts Payable", "ap", "Liability.CurrentLiabilities"),
    _r("817", "817", "VAT", "liability", "Liability.CurrentLiabilities"),
    _r("901", "901", "Retained Profit", "equity", "Equity.Equity"),
]

# Zoho Books: long numeric ids, generated below; account codes are optional.
_ZOHO_ACCOUNTS = [
    _r(None, None, "Business Checking", "bank", "Asset.Bank"),
    _r(None, None, "Business Credit Card", "card", "Liability.CreditCard"),
    _r(None, None, "EUR Credit Card", "card", "Liability.CreditCard", "EUR"),
    _r(None, None, "Old Credit Card", "card", "Liability.CreditCard", archived=True),
    _r(None, None, "Meals and Entertainment", "expense", "Expense.Expense"),
    _r(None, None, "Travel Expense", "expense", "Expense.Expense"),
    _r(None, None, "Office Supplies", "expense", "Expense.Expense"),
    _r(None, None, "IT and Internet Expenses", "expense", "Expense.Expense"),
    _r(None, None, "Bank Fees and Charges", "expense_payment_only", "Expense.Expense"),
    _r(None, None, "Advertising And Marketing", "expense", "Expense.Expense", archived=True),
    _r(None, None, "Cost of Goods Sold", "expense", "Expense.CostOfGoodsSold"),
    _r(None, None, "Sales", "income", "Income.Income"),
    _r(None, None, "Other Income", "reward_income", "Income.OtherIncome"),
    _r(None, None, "Accounts Payable", "ap", "Liability.OtherCurrentLiability"),
    _r(None, None, "Tax Payable", "liability", "Liability.OtherCurrentLiability"),
    _r(None, None, "Retained Earnings", "equity", "Equity.Equity"),
]

_ACCOUNTS = {
    "qhyg": _QBO_ACCOUNTS,
    "gbol": _XERO_ACCOUNTS,
    "akxx": _NETSUITE_ACCOUNTS,
    "knfz": _INTACCT_ACCOUNTS,
    "pqsw": _QBD_ACCOUNTS,
    "trji": _DYNAMICS_ACCOUNTS,
    "fbrh": _FREEAGENT_ACCOUNTS,
    "rwuv": _ZOHO_ACCOUNTS,
}

# --- tax rates ---------------------------------------------------------------------
# Row: (id or None to generate, name, code, rate, transaction types or None = all, archived)
_TaxRow = tuple[str | None, str, str | None, str, tuple[str, ...] | None, bool]

_TAX_RATES: dict[str, list[_TaxRow]] = {
    "qhyg": [
        ("NON", "Out of scope", "NON", "0", None, False),
        ("3_Bills", "California 7.25% Bills", "California", "7.25", None, False),
        ("5_Bills", "NYC 8.875% Bills", "NYC", "8.875", ("Payment",), False),
        ("7_Bills", "Old County 6% Bills", "Old County", "6", None, True),
    ],
    "gbol": [
        ("NONE", "No VAT", "NONE", "0", None, False),
        ("INPUT2", "20% (VAT on Expenses)", "INPUT2", "20", None, False),
        ("RRINPUT", "5% (VAT on Expenses)", "RRINPUT", "5", None, False),
        ("ZERORATEDINPUT", "Zero Rated Expenses", "ZERORATEDINPUT", "0", None, False),
        ("EXEMPTINPUT", "Exempt Expenses", "EXEMPTINPUT", "0", ("Payment", "Refund"), False),
        ("INPUT", "17.5% (VAT on Expenses)", "INPUT", "17.5", None, True),
    ],
    "akxx": [
        ("-7", "-Not Taxable-", "-Not Taxable-", "0", None, False),
        ("12", "CA State Sales Tax", "CA", "7.25", None, False),
        ("15", "NY State Sales Tax", "NY", "4", ("Payment", "Refund"), False),
        ("9", "TX Sales Tax (retired)", "TX-OLD", "6.25", None, True),
    ],
    "knfz": [
        ("CA-SALES", "California Sales Tax", "CA-SALES", "7.25", None, False),
        ("USE-TAX", "Use Tax", "USE-TAX", "6", None, False),
        ("OLD-TAX", "Retired Tax Detail", "OLD-TAX", "5", None, True),
    ],
    "pqsw": [
        (None, "San Tomas", "San Tomas", "7.75", None, False),
        (None, "East Bayshore", "East Bayshore", "8.25", ("Payment",), False),
        (None, "Out of State", "Out of State", "0", None, False),
        (None, "Old Rate", "Old Rate", "7", None, True),
    ],
    "trji": [
        ("ZERO", "Zero rate 0%", "ZERO", "0", None, False),
        ("STANDARD", "Standard rate 20%", "STANDARD", "20", None, False),
        ("REDUCED", "Reduced rate 5%", "REDUCED", "5", None, False),
        ("OLDSTD", "Standard rate 17.5%", "OLDSTD", "17.5", None, True),
    ],
    "fbrh": [
        ("STANDARD_20", "Standard 20%", "Standard", "20", None, False),
        ("REDUCED_5", "Reduced 5%", "Reduced", "5", None, False),
        ("ZERO_0", "Zero 0%", "Zero", "0", None, False),
        ("STANDARD_17_5", "Standard 17.5%", "Standard (old)", "17.5", None, True),
    ],
    "rwuv": [
        (None, "Sales Tax (8.875%)", "NY", "8.875", None, False),
        (None, "Sales Tax (7.25%)", "CA", "7.25", None, False),
        (None, "Exempt (0%)", "EXEMPT", "0", None, False),
        (None, "Old Tax (6%)", "OLD", "6", None, True),
    ],
}

# --- tracking categories -------------------------------------------------------------
# (group name, children); the last child of the first group is archived.
_TRACKING: dict[str, list[tuple[str, list[str]]]] = {
    "qhyg": [
        ("Department", ["Sales", "Engineering", "Marketing"]),
        ("Class", ["Consulting", "Retail"]),
    ],
    "gbol": [("Region", ["North", "South", "Scotland"]), ("Department", ["Sales", "Operations"])],
    "akxx": [
        ("Department", ["Sales", "R&D", "Events"]),
        ("Location", ["San Francisco", "New York"]),
    ],
    "knfz": [
        ("Department", ["Finance", "Engineering", "Legacy"]),
        ("Location", ["Austin", "Boston"]),
    ],
    "pqsw": [("Class", ["Overhead", "Projects", "Old Class"]), ("Region", ["East", "West"])],
    "trji": [("Department", ["ADM", "SALES", "PROD"]), ("Area", ["North", "South"])],
    "fbrh": [
        ("Project", ["Website Rebuild", "Office Move", "Old Project"]),
        ("Cost Centre", ["HQ", "Field"]),
    ],
    "rwuv": [("Cost Center", ["Sales", "Support", "Retired"]), ("Region", ["East", "West"])],
}

# --- contacts ------------------------------------------------------------------------
_SUPPLIER_NAMES = [
    "Amazon Web Services",
    "Staples",
    "Uber",
    "WeWork",
    "Delta Air Lines",
    "British Airways",
    "Pret A Manger",
    "Adobe",
    "Zoom Video Communications",
    "Hilton Hotels",
    "Dell Technologies",
    "Slack Technologies",
]
_EMPLOYEE_NAMES = ["Jane Smith", "Ravi Patel", "Maria Garcia", "Tom Okafor", "Lena Fischer"]
_CUSTOMER_NAMES = [
    "Acme Corporation",
    "Globex Ltd",
    "Initech",
    "Umbrella plc",
    "Stark Industries",
    "Wayne Enterprises",
    "Soylent Foods",
    "Hooli",
    "Vandelay Industries",
]

_FOREIGN = {"GBP": ("USD", "EUR"), "USD": ("EUR", "CAD")}

_UK_ADDRESSES = [
    ("Warner House", "98 Theobald's Road", "London", "", "United Kingdom", "WC1X 8WB"),
    ("12 King Street", "", "Manchester", "Greater Manchester", "United Kingdom", "M2 4WU"),
    ("4 Queen Street", "Suite 2", "Edinburgh", "", "United Kingdom", "EH2 1JE"),
]
_US_ADDRESSES = [
    ("123 Sierra Way", "", "San Pablo", "CA", "United States", "87999"),
    ("500 Market Street", "Floor 4", "San Francisco", "CA", "United States", "94105"),
    ("77 Broad Street", "", "New York", "NY", "United States", "10004"),
]


class _Ids:
    """Platform-style identifiers, drawn from the seeded random generator."""

    def __init__(self, platform: Platform, rng: random.Random):
        self.platform = platform
        self.rng = rng
        self.qbd_counter = 0
        self.qbd_stamp = 1674552702 + rng.randrange(0, 50_000)

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def qbd(self) -> str:
        # QuickBooks Desktop ListIDs: an incrementing hex counter and a creation stamp.
        self.qbd_counter += 1
        return f"{0x80000000 + self.qbd_counter:X}-{self.qbd_stamp + self.qbd_counter * 37}"

    def zoho(self) -> str:
        return str(460000000000000 + self.rng.randrange(10_000, 99_999_999))

    def generated(self) -> str:
        key = self.platform.key
        if key == "pqsw":
            return self.qbd()
        if key == "rwuv":
            return self.zoho()
        return self.guid()

    def contact(self, n: int, customer: bool) -> str:
        key = self.platform.key
        if key in ("gbol", "trji"):
            return self.guid()
        if key == "pqsw":
            return self.qbd()
        if key == "rwuv":
            return self.zoho()
        if key == "knfz":
            return f"{'C' if customer else 'V'}-{100 + n:05d}"
        # QBO / NetSuite / FreeAgent: numeric record ids.
        return str((500 if customer else 430) + n * 7)


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100)).scaleb(-2)


def _filter_valid_for(platform: Platform, kind: _Kind) -> tuple[list[str], list[str]]:
    types = [
        t for t in EXPENSE_TYPES if t in kind.transaction_types and t in platform.expense_types
    ]
    valid_for = [f"expense-transactions.{t}" for t in types]
    if kind.reimbursable and "reimbursable" in platform.supports:
        valid_for.append("reimbursable-expense-transactions")
    if kind.transfer and "transfer_create" in platform.supports:
        valid_for.append("transfer-transactions")
    if kind.adjustment and "adjustment" in platform.supports:
        valid_for.append("adjustment-transactions")
    return types, valid_for


def _iso(d: date) -> str:
    return f"{d.isoformat()}T00:00:00"


def _chart_and_banks(
    platform: Platform, rng: random.Random, ids: _Ids, base: str, modified: str
) -> tuple[list[dict], list[dict]]:
    foreign = _FOREIGN.get(base, ("EUR", "USD"))
    accounts: list[dict] = []
    banks: list[dict] = []
    for id_, code, name, kind_name, fqc, currency, archived, bank_id in _ACCOUNTS[platform.key]:
        kind = _KINDS[kind_name]
        account_id = id_ or ids.generated()
        # Rows name a foreign currency relative to a USD or GBP base; map it onto this
        # company's foreign currencies so a "foreign" card never equals the base.
        ccy = base if currency is None else (currency if currency != base else foreign[0])
        types, valid_for = _filter_valid_for(platform, kind)
        accounts.append(
            {
                "id": account_id,
                "nominalCode": code,
                "name": name,
                "description": _DESCRIPTIONS[kind_name],
                "fullyQualifiedCategory": fqc,
                "fullyQualifiedName": f"{fqc}.{name}",
                "currency": ccy,
                "currentBalance": _money(rng, 0, 25_000),
                "type": kind.account_type,
                "status": "Archived" if archived else "Active",
                "isBankAccount": kind.is_bank,
                "validTransactionTypes": types,
                "validFor": valid_for,
                "metadata": {"isDeleted": archived},
                "modifiedDate": modified,
                "sourceModifiedDate": _iso(
                    date(2024, 1, 1) + timedelta(days=rng.randrange(0, 500))
                ),
            }
        )
        if kind.is_bank:
            banks.append(
                _bank_account(rng, bank_id or account_id, name, code, ccy, kind, archived, modified)
            )
    return accounts, banks


def _bank_account(
    rng: random.Random,
    bank_id: str,
    name: str,
    code: str | None,
    currency: str,
    kind: _Kind,
    archived: bool,
    modified: str,
) -> dict:
    is_card = kind.bank_account_type == "Credit"
    # Cards stay inside a 10,000 limit; current accounts hold a working balance.
    balance = _money(rng, 100, 8_000) if is_card else _money(rng, 1_000, 40_000)
    # UK-style sort code and account number only for GBP current accounts (as Xero
    # reports them); cards carry only their last four digits.
    uk = currency == "GBP" and not is_card
    return {
        "id": bank_id,
        "accountName": name,
        "accountType": kind.bank_account_type,
        "nominalCode": code,
        "sortCode": f"{rng.randrange(10, 99)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}"
        if uk
        else None,
        "accountNumber": (
            f"{rng.randrange(10_000_000, 99_999_999)}"
            if not is_card
            else f"{rng.randrange(1000, 9999)}"
        ),
        "iBan": None,
        "currency": currency,
        "balance": balance,  # for Credit accounts a positive balance is owed
        "institution": rng.choice(["Barclays", "HSBC", "Chase", "American Express", "Wells Fargo"]),
        "availableBalance": balance if not is_card else Decimal("10000.00") - balance,
        "overdraftLimit": Decimal("0.00") if is_card else Decimal("1000.00"),
        "status": "Archived" if archived else "Active",
        "metadata": {"isDeleted": archived},
        "modifiedDate": modified,
        "sourceModifiedDate": modified,
    }


def _tax_rates(platform: Platform, ids: _Ids) -> list[dict]:
    rates = []
    for id_, name, code, rate, types, archived in _TAX_RATES[platform.key]:
        allowed = types if types is not None else EXPENSE_TYPES
        rates.append(
            {
                "id": id_ or ids.generated(),
                "name": name,
                "code": code,
                "effectiveTaxRate": Decimal(rate),
                "totalTaxRate": Decimal(rate),
                "validTransactionTypes": [
                    t for t in EXPENSE_TYPES if t in allowed and t in platform.expense_types
                ],
                "status": "Archived" if archived else "Active",
            }
        )
    return rates


def _tracking(platform: Platform, ids: _Ids) -> list[dict]:
    key = platform.key
    records = []
    for g, (group, children) in enumerate(_TRACKING[key]):
        slug = group.upper().replace(" ", "_")
        if key in ("qhyg", "akxx", "knfz", "trji", "fbrh"):
            # Codat's composite ids, as in the spec examples (DEPARTMENTS / DEPARTMENT_5).
            parent_id = f"{slug}S"
        else:
            parent_id = ids.generated()
        records.append(
            {
                "id": parent_id,
                "name": group,
                "parentId": None,
                "hasChildren": True,
                "status": "Active",
            }
        )
        for c, child in enumerate(children):
            if key in ("qhyg", "akxx", "knfz", "trji", "fbrh"):
                child_id = f"{slug}_{g * 10 + c + 1}"
            else:
                child_id = ids.generated()
            archived = g == 0 and c == len(children) - 1
            records.append(
                {
                    "id": child_id,
                    "name": child,
                    "parentId": parent_id,
                    "hasChildren": False,
                    "status": "Archived" if archived else "Active",
                }
            )
    return records


def _address(rng: random.Random, base: str, kind: str = "Billing") -> dict:
    line1, line2, city, region, country, postal = rng.choice(
        _UK_ADDRESSES if base == "GBP" else _US_ADDRESSES
    )
    return {
        "type": kind,
        "line1": line1,
        "line2": line2,
        "city": city,
        "region": region,
        "country": country,
        "postalCode": postal,
    }


def _email(name: str) -> str:
    local = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
    return f"accounts@{local}.example.com"


def _phone(rng: random.Random, base: str) -> str:
    if base == "GBP":
        return f"020 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
    return f"({rng.randrange(200, 999)}) {rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}"


def _suppliers(rng: random.Random, ids: _Ids, base: str, modified: str) -> list[dict]:
    foreign = _FOREIGN.get(base, ("EUR", "USD"))
    names = rng.sample(_SUPPLIER_NAMES, 5)
    employee = rng.choice(_EMPLOYEE_NAMES)
    # (name, defaultCurrency, status). None currency = a multi-currency supplier, which
    # Codat does not check against the transaction currency.
    plan = [
        (names[0], base, "Active"),
        (names[1], base, "Active"),
        (names[2], foreign[0], "Active"),
        (names[3], None, "Active"),
        (f"{employee} (employee)", base, "Active"),
        (names[4], base, "Archived"),
    ]
    suppliers = []
    for n, (name, currency, status) in enumerate(plan):
        suppliers.append(
            {
                "id": ids.contact(n, customer=False),
                "supplierName": name,
                "contactName": employee if "employee" in name else name,
                "emailAddress": _email(name),
                "phone": _phone(rng, base),
                "addresses": [_address(rng, base)],
                "registrationNumber": None,
                "taxNumber": None,
                "status": status,
                "defaultCurrency": currency,
                "metadata": {"isDeleted": status == "Archived"},
                "modifiedDate": modified,
                "sourceModifiedDate": modified,
            }
        )
    return suppliers


def _customers(rng: random.Random, ids: _Ids, base: str, modified: str) -> list[dict]:
    foreign = _FOREIGN.get(base, ("EUR", "USD"))
    names = rng.sample(_CUSTOMER_NAMES, 5)
    plan = [
        (names[0], base, "Active"),
        (names[1], base, "Active"),
        (names[2], foreign[0], "Active"),
        (names[3], foreign[1], "Active"),
        (names[4], base, "Archived"),
    ]
    customers = []
    for n, (name, currency, status) in enumerate(plan):
        contact_name = rng.choice(_EMPLOYEE_NAMES)
        customers.append(
            {
                "id": ids.contact(n, customer=True),
                "customerName": name,
                "contactName": contact_name,
                "emailAddress": _email(name),
                "phone": _phone(rng, base),
                "addresses": [_address(rng, base)],
                "contacts": [
                    {
                        "name": contact_name,
                        "email": _email(name).replace("accounts@", "finance@"),
                        "phone": [{"number": _phone(rng, base), "type": "Primary"}],
                        "address": _address(rng, base),
                        "status": status,
                        "modifiedDate": modified,
                    }
                ],
                "registrationNumber": None,
                "taxNumber": None,
                "status": status,
                "defaultCurrency": currency,
                "metadata": {"isDeleted": status == "Archived"},
                "modifiedDate": modified,
                "sourceModifiedDate": modified,
            }
        )
    return customers


def lock_date_for(today: date) -> date:
    """Last day of the month three months back: a lock 2-3 months in the past."""
    first = today.replace(day=1)
    month = first.month - 2
    year = first.year
    if month <= 0:
        month += 12
        year -= 1
    return date(year, month, 1) - timedelta(days=1)


def _source_urls(platform: Platform, rng: random.Random, ref: str) -> dict[str, str]:
    key = platform.key
    if key == "gbol":
        code = "".join(rng.choice("abcdefghijkmnpqrstuvwxyz0123456789") for _ in range(5))
        return {
            "url1": f"https://go.xero.com/organisationlogin/default.aspx?shortcode=!{code}",
            "url2": f"https://reporting.xero.com/!{code}",
        }
    if key == "qhyg":
        return {"url": f"https://app.qbo.intuit.com/app/homepage?companyId={ref}"}
    if key == "akxx":
        return {"url": f"https://{ref}.app.netsuite.com/app/center/card.nl"}
    if key == "knfz":
        return {"url": f"https://www.intacct.com/ia/acct/login.phtml?company={ref}"}
    if key == "trji":
        return {"url": f"https://businesscentral.dynamics.com/{ref}/Production"}
    if key == "fbrh":
        return {"url": "https://secure.freeagent.com/overview"}
    if key == "rwuv":
        return {"url": f"https://books.zoho.com/app/{ref}#/home/dashboard"}
    return {}  # QuickBooks Desktop is on-premise: no web URL


def _company(
    platform: Platform, rng: random.Random, ids: _Ids, company_name: str, base: str, today: date
) -> dict:
    key = platform.key
    if key == "qhyg":
        ref = str(rng.randrange(9130_0000_0000_0000, 9130_9999_9999_9999))
    elif key == "akxx":
        ref = str(rng.randrange(1_000_000, 9_999_999))
    elif key == "knfz":
        ref = "".join(ch for ch in company_name.lower() if ch.isalnum())[:12] or "company"
    elif key == "pqsw":
        ref = ids.qbd()
    elif key == "rwuv":
        ref = str(rng.randrange(700_000_000, 799_999_999))
    elif key == "fbrh":
        ref = str(rng.randrange(100_000, 999_999))
    else:
        ref = ids.guid()
    uk = base == "GBP"
    domain = "".join(ch for ch in company_name.lower() if ch.isalnum()) or "company"
    fy_start_month = 4 if uk else 1
    fy_year = today.year if today.month >= fy_start_month else today.year - 1
    return {
        "companyName": company_name,
        "accountingPlatformRef": ref,
        "companyLegalName": f"{company_name} {'Ltd' if uk else 'Inc.'}",
        "addresses": [_address(rng, base, "Billing"), _address(rng, base, "Delivery")],
        "phoneNumbers": [{"number": _phone(rng, base), "type": "Landline"}],
        "webLinks": [
            {
                "type": "Website",
                "url": f"https://www.{domain}.example.com",
            }
        ],
        "ledgerLockDate": _iso(lock_date_for(today)),
        "registrationNumber": f"{rng.randrange(10_000_000, 99_999_999):08d}" if uk else None,
        "taxNumber": (
            f"GB {rng.randrange(100_000_000, 999_999_999)}"
            if uk
            else f"{rng.randrange(10, 99)}-{rng.randrange(1_000_000, 9_999_999)}"
        ),
        "financialYearStartDate": _iso(date(fy_year, fy_start_month, 1)),
        "baseCurrency": base,
        "sourceUrls": _source_urls(platform, rng, ref),
        "createdDate": _iso(date(2019, 1, 1) + timedelta(days=rng.randrange(0, 1500))),
    }


def seed_ledger(
    platform_key: str, company_name: str, seed: int = 0, today: date | None = None
) -> dict[str, list[dict]]:
    """Reference data of a fresh sandbox ledger for `platform_key`.

    Deterministic for a given (platform_key, company_name, seed) and day: only the
    ledger lock date, financial year start and modifiedDate follow `today`.
    """
    platform = PLATFORMS.get(platform_key)
    if platform is None:
        raise ValueError(f"unknown platform key {platform_key!r}")
    today = today or date.today()
    # Not for security: a reproducible generator so the same company always gets the
    # same ledger. Seeding from a string is stable across runs (it is hashed with SHA-512).
    rng = random.Random(f"{platform_key}:{company_name}:{seed}")  # noqa: S311
    ids = _Ids(platform, rng)
    base = platform.default_base_currency
    modified = f"{today.isoformat()}T00:00:00Z"
    accounts, banks = _chart_and_banks(platform, rng, ids, base, modified)
    return {
        "chartOfAccounts": accounts,
        "taxRates": _tax_rates(platform, ids),
        "trackingCategories": _tracking(platform, ids),
        "suppliers": _suppliers(rng, ids, base, modified),
        "customers": _customers(rng, ids, base, modified),
        "bankAccounts": banks,
        "company": [_company(platform, rng, ids, company_name, base, today)],
    }


def index_ledger(seeded: dict[str, list[dict]]) -> dict[str, dict[str, dict]]:
    """`data type -> id -> record`, the form the rules take.

    Company information has no id of its own; it is keyed by accountingPlatformRef.
    """
    indexed: dict[str, dict[str, dict]] = {}
    for data_type, records in seeded.items():
        if data_type == "company":
            indexed[data_type] = {
                str(r.get("accountingPlatformRef") or "company"): r for r in records
            }
        else:
            indexed[data_type] = {r["id"]: r for r in records}
    return indexed
