"""co-production panels, comments and answers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('panel_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=60), nullable=True),
    sa.Column('is_real_name_shown', sa.Boolean(), nullable=False),
    sa.Column('is_notified_by_email', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_panel_profiles_council_id_councils')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_panel_profiles_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_profiles')),
    sa.UniqueConstraint('council_id', 'display_name', name='council_display_name'),
    sa.UniqueConstraint('user_id', 'council_id', name='user_council')
    )
    with op.batch_alter_table('panel_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_profiles_council_id'), ['council_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_panel_profiles_user_id'), ['user_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('edited_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_comments_action_id_actions')),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_comments_council_id_councils')),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_comments_hidden_by_id_users')),
    sa.ForeignKeyConstraint(['parent_id'], ['comments.id'], name=op.f('fk_comments_parent_id_comments')),
    sa.ForeignKeyConstraint(['profile_id'], ['panel_profiles.id'], name=op.f('fk_comments_profile_id_panel_profiles')),
    sa.ForeignKeyConstraint(['return_id'], ['returns.id'], name=op.f('fk_comments_return_id_returns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_council_created', ['council_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index('ix_comments_return_action', ['return_id', 'action_id'], unique=False)

    op.create_table('comment_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('is_you_said_we_did', sa.Boolean(), nullable=False),
    sa.Column('change_made', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('edited_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comment_answers_author_id_users')),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_answers_comment_id_comments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_answers')),
    sa.UniqueConstraint('comment_id', name=op.f('uq_comment_answers_comment_id'))
    )


def downgrade():
    op.drop_table('comment_answers')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_return_action')
        batch_op.drop_index(batch_op.f('ix_comments_profile_id'))
        batch_op.drop_index(batch_op.f('ix_comments_parent_id'))
        batch_op.drop_index('ix_comments_council_created')

    op.drop_table('comments')
    with op.batch_alter_table('panel_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_profiles_user_id'))
        batch_op.drop_index(batch_op.f('ix_panel_profiles_council_id'))

    op.drop_table('panel_profiles')
