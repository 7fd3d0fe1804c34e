"""report jobs (background report generation)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('period_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('progress_done', sa.Integer(), nullable=False),
        sa.Column('progress_total', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('stored_name', sa.String(length=64), nullable=True),
        sa.Column(
            'created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False
        ),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['period_id'], ['periods.id'], name=op.f('fk_report_jobs_period_id_periods')
        ),
        sa.ForeignKeyConstraint(
            ['region_id'], ['regions.id'], name=op.f('fk_report_jobs_region_id_regions')
        ),
        sa.ForeignKeyConstraint(
            ['requested_by_id'], ['users.id'], name=op.f('fk_report_jobs_requested_by_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_jobs')),
    )
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_report_jobs_region_period',
            ['region_id', 'period_id', 'requested_by_id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_report_jobs_region_period')
    op.drop_table('report_jobs')
