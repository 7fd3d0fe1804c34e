"""team invitations: a council role is granted only when the invited person accepts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'team_invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=24), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('display_name', sa.String(length=120), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column(
            'created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False
        ),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('accepted_at', sa.DateTime(), nullable=True),
        sa.Column('declined_at', sa.DateTime(), nullable=True),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "role IN ('council_editor', 'council_viewer', 'panel_member')",
            name=op.f('ck_team_invitations_managed_role'),
        ),
        sa.ForeignKeyConstraint(
            ['answered_by_id'], ['users.id'], name=op.f('fk_team_invitations_answered_by_id_users')
        ),
        sa.ForeignKeyConstraint(
            ['council_id'], ['councils.id'], name=op.f('fk_team_invitations_council_id_councils')
        ),
        sa.ForeignKeyConstraint(
            ['invited_by_id'], ['users.id'], name=op.f('fk_team_invitations_invited_by_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team_invitations')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_team_invitations_token_hash')),
    )
    with op.batch_alter_table('team_invitations', schema=None) as batch_op:
        batch_op.create_index(
            'ix_team_invitations_council_email', ['council_id', 'email'], unique=False
        )


def downgrade():
    with op.batch_alter_table('team_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_team_invitations_council_email')
    op.drop_table('team_invitations')
