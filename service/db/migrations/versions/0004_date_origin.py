"""Every archived date keeps who says it (curated, platform, source, claimed): a page cannot make footage old.

Dates stored before this are given the origin the code would give them now, as far as the rows tell:
a curated item's date is the editor's; a crawled item's (origin "crawl:…") its source's; a remembered
check's is the platform's only when its ``platform`` (the yt-dlp extractor key) is one that sets upload
times itself -- the host of the page it came from was not stored, so even those stay claimed unless
their source_url is on that platform. Everything else is claimed. Editors can vouch for a date by
editing it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# service.dates.PLATFORM_HOSTS as it was when this migration was written (a migration never changes).
PLATFORM_HOSTS = {
    "Youtube": ("youtube.com", "youtu.be"), "Vimeo": ("vimeo.com",), "Twitter": ("twitter.com", "x.com"),
    "TikTok": ("tiktok.com",), "Instagram": ("instagram.com",), "TelegramEmbed": ("t.me", "telegram.me"),
    "Dailymotion": ("dailymotion.com",), "Reddit": ("reddit.com",), "VK": ("vk.com", "vkvideo.ru"),
    "Rumble": ("rumble.com",), "BiliBili": ("bilibili.com",), "Streamable": ("streamable.com",),
    "Weibo": ("weibo.com", "weibo.cn"), "Odnoklassniki": ("ok.ru",), "Bluesky": ("bsky.app",),
}


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("date_origin", sa.String(length=16), nullable=True))
    items = sa.table("items", sa.column("kind", sa.String), sa.column("published", sa.String),
                     sa.column("origin", sa.String), sa.column("platform", sa.String),
                     sa.column("source_url", sa.Text), sa.column("date_origin", sa.String))
    dated = items.c.published.is_not(None) & (items.c.published != "")
    op.execute(items.update().where(dated).values(date_origin="claimed"))
    op.execute(items.update().where(dated & (items.c.kind == "curated")).values(date_origin="curated"))
    observed = dated & (items.c.kind == "observed")
    for extractor, hosts in PLATFORM_HOSTS.items():
        on_host = sa.or_(*(items.c.source_url.like(f"{scheme}://{sub}{host}/%")
                           for host in hosts for scheme in ("http", "https") for sub in ("", "www.", "m.")))
        op.execute(items.update().where(observed & (items.c.platform == extractor) & on_host)
                   .values(date_origin="platform"))
    op.execute(items.update().where(observed & items.c.origin.like("crawl:%")).values(date_origin="source"))


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("date_origin")
