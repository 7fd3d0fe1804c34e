"""when a council's team invitation was withdrawn by one of its managers

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('team_invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_team_invitations_withdrawn_by_id_users', 'users', ['withdrawn_by_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('team_invitations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_team_invitations_withdrawn_by_id_users', type_='foreignkey')
        batch_op.drop_column('withdrawn_by_id')
        batch_op.drop_column('withdrawn_at')
