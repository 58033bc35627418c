"""A small knowledge base written for the bot tests, and a brain built on it once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import Brain, Entry

KB = [
    Entry(
        "reset-password",
        "How do I reset my password?",
        "Use 'Forgot password' on the sign-in page.",
        (
            "I forgot my password",
            "can't log in, need a new password",
            "password reset link",
            "how to change my login password",
            "locked out of my account password",
        ),
    ),
    Entry(
        "opening-hours",
        "What are your opening hours?",
        "We are open 9:00-17:00, Monday to Friday.",
        (
            "when are you open",
            "what time do you close today",
            "are you open on weekends",
            "business hours",
            "what time does the shop open",
        ),
    ),
    Entry(
        "shipping-cost",
        "How much does shipping cost?",
        "Shipping is free above 50 EUR, otherwise 4.90 EUR.",
        (
            "what are the delivery charges",
            "is shipping free",
            "price of postage",
            "how much do you charge for delivery",
            "shipping fees to germany",
        ),
    ),
    Entry(
        "track-order",
        "Where is my order?",
        "Follow the tracking link in your shipping e-mail.",
        (
            "track my package",
            "my parcel has not arrived yet",
            "order tracking number",
            "when will my order arrive",
            "status of my delivery",
        ),
    ),
    Entry(
        "refund",
        "How do I get a refund?",
        "Refunds are paid to the original payment method within 5 days.",
        (
            "I want my money back",
            "refund for a returned item",
            "when will I get my refund",
            "can I get reimbursed",
            "refund policy",
        ),
    ),
    Entry(
        "payment-methods",
        "Which payment methods do you accept?",
        "Cards, PayPal and bank transfer.",
        (
            "can I pay with paypal",
            "do you take credit cards",
            "payment options",
            "can I pay by bank transfer",
            "is apple pay accepted",
        ),
    ),
    Entry(
        "cancel-order",
        "How can I cancel my order?",
        "Orders can be cancelled from your account until they ship.",
        (
            "cancel my purchase",
            "I ordered by mistake, please cancel",
            "stop my order",
            "how to cancel an order I just placed",
            "undo my order",
        ),
    ),
    Entry(
        "change-address",
        "How do I change my delivery address?",
        "Edit the address in your account before the order ships.",
        (
            "update shipping address",
            "I moved, change my address",
            "wrong address on my order",
            "edit delivery address",
            "send my parcel to a different address",
        ),
    ),
]


@pytest.fixture(scope="session")
def kb() -> list[Entry]:
    """The test knowledge base."""
    return list(KB)


@pytest.fixture(scope="session")
async def brain(kb: list[Entry]) -> AsyncIterator[Brain]:
    """One running brain with the trained head but no fine-tune (too slow for tests)."""
    created = await Brain.create(kb, fine_tune=False)
    async with created:
        await created.ready()
        yield created
