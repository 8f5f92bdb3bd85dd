"""The tenant tables, the same two as Tenanted's side (Sources/PostgresFigures/Peers.swift):
`items` (bigint key, text title with an index) and `notes` (bigint key, a reference to an item, text)."""

import os

from django.db import models


class Item(models.Model):
    id = models.BigIntegerField(primary_key=True)
    title = models.TextField(db_index=True)
    if os.environ.get("PEER_NEXT_MIGRATION") == "1":
        priority = models.IntegerField(default=0, db_index=True)

    class Meta:
        db_table = "items"


class Note(models.Model):
    id = models.BigIntegerField(primary_key=True)
    item = models.ForeignKey(Item, on_delete=models.CASCADE)
    body = models.TextField()

    class Meta:
        db_table = "notes"
