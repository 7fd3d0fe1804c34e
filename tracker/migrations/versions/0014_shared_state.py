"""state every node shares: the database file store, the figures' change counters and their
triggers, and claimed runs of periodic jobs

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from tracker.models.shared import drop_statements, first_generation_row, trigger_statements


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stored_files',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('chunks', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'stored_file_chunks',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['key'], ['stored_files.key'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('key', 'seq'),
    )
    op.create_table(
        'cache_generations',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'scheduled_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('slot', sa.String(length=40), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('outcome', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name', 'slot', name='uq_scheduled_runs_name_slot'),
    )
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('data_version', sa.Integer(), server_default='0', nullable=False)
        )
    op.execute(first_generation_row())
    dialect = op.get_bind().dialect.name
    for statement in trigger_statements(dialect):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in drop_statements(dialect):
        op.execute(statement)
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_column('data_version')
    op.drop_table('scheduled_runs')
    op.drop_table('cache_generations')
    op.drop_table('stored_file_chunks')
    op.drop_table('stored_files')
