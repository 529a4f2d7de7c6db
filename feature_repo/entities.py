"""Entities: the join keys every feature hangs from."""

from feast import Entity, ValueType

from contracts.features import ITEM_ENTITY, USER_ENTITY

user = Entity(
    name="user",
    join_keys=[USER_ENTITY],
    value_type=ValueType.STRING,
    description="A person who sees recommendations.",
)
item = Entity(
    name="item",
    join_keys=[ITEM_ENTITY],
    value_type=ValueType.STRING,
    description="A catalogue item.",
)
