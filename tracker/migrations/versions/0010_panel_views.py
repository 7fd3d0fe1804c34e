"""the panel's own view of each action of a signed-off return (triangulation)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('panel_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('on_behalf', sa.Boolean(), nullable=False),
    sa.Column('meeting_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_panel_views_action_id_actions')),
    sa.ForeignKeyConstraint(['profile_id'], ['panel_profiles.id'], name=op.f('fk_panel_views_profile_id_panel_profiles')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_panel_views_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['return_id'], ['returns.id'], name=op.f('fk_panel_views_return_id_returns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_views')),
    sa.UniqueConstraint('return_id', 'action_id', 'profile_id', name='panel_view_once')
    )
    with op.batch_alter_table('panel_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_views_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index('ix_panel_views_return_action', ['return_id', 'action_id'], unique=False)


def downgrade():
    with op.batch_alter_table('panel_views', schema=None) as batch_op:
        batch_op.drop_index('ix_panel_views_return_action')
        batch_op.drop_index(batch_op.f('ix_panel_views_profile_id'))
    op.drop_table('panel_views')
