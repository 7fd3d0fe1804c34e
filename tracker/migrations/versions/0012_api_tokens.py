"""personal access tokens for the read-only API, stored only as a SHA-256 hash

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-16 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=10), nullable=False),
        sa.Column('scope_kind', sa.String(length=10), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=True),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column(
            'created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False
        ),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "(scope_kind = 'council' AND council_id IS NOT NULL AND region_id IS NULL)"
            " OR (scope_kind = 'region' AND region_id IS NOT NULL AND council_id IS NULL)"
            " OR (scope_kind = 'national' AND council_id IS NULL AND region_id IS NULL)",
            name=op.f('ck_api_tokens_scope_matches_kind'),
        ),
        sa.ForeignKeyConstraint(
            ['council_id'], ['councils.id'], name=op.f('fk_api_tokens_council_id_councils')
        ),
        sa.ForeignKeyConstraint(
            ['region_id'], ['regions.id'], name=op.f('fk_api_tokens_region_id_regions')
        ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
    op.drop_table('api_tokens')
