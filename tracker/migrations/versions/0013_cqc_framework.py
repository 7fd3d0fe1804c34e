"""the CQC's assessment framework beside the roadmap, its crosswalk to the roadmap's actions,
each action's prevention tier, the CQC evidence category of evidence, and shared practice

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-17 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'frameworks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('publisher', sa.String(length=200), nullable=False),
        sa.Column('published', sa.String(length=40), nullable=False),
        sa.Column('source_url', sa.String(length=300), nullable=False),
        sa.Column('licence', sa.String(length=300), nullable=False),
        sa.Column('loaded_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.create_table(
        'framework_themes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('framework_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=80), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['framework_id'], ['frameworks.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    with op.batch_alter_table('framework_themes', schema=None) as batch_op:
        batch_op.create_index('ix_framework_themes_framework_id', ['framework_id'], unique=False)
    op.create_table(
        'quality_statements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('theme_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('slug', sa.String(length=100), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('we_statement', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['theme_id'], ['framework_themes.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
        sa.UniqueConstraint('slug'),
    )
    with op.batch_alter_table('quality_statements', schema=None) as batch_op:
        batch_op.create_index('ix_quality_statements_theme_id', ['theme_id'], unique=False)
    op.create_table(
        'action_statement_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('statement_id', sa.Integer(), nullable=False),
        sa.Column('rationale', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['action_id'], ['actions.id']),
        sa.ForeignKeyConstraint(['statement_id'], ['quality_statements.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('action_id', 'statement_id', name='action_statement'),
    )
    with op.batch_alter_table('action_statement_links', schema=None) as batch_op:
        batch_op.create_index('ix_action_statement_links_action_id', ['action_id'], unique=False)
        batch_op.create_index(
            'ix_action_statement_links_statement_id', ['statement_id'], unique=False
        )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prevention_tier', sa.String(length=10), nullable=True))
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cqc_category', sa.String(length=20), nullable=True))
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('practice_shared', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column('practice_note', sa.Text(), server_default='', nullable=False)
        )
        batch_op.add_column(
            sa.Column('practice_contact', sa.String(length=200), server_default='', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_column('practice_contact')
        batch_op.drop_column('practice_note')
        batch_op.drop_column('practice_shared')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('cqc_category')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_column('prevention_tier')
    with op.batch_alter_table('action_statement_links', schema=None) as batch_op:
        batch_op.drop_index('ix_action_statement_links_statement_id')
        batch_op.drop_index('ix_action_statement_links_action_id')
    op.drop_table('action_statement_links')
    with op.batch_alter_table('quality_statements', schema=None) as batch_op:
        batch_op.drop_index('ix_quality_statements_theme_id')
    op.drop_table('quality_statements')
    with op.batch_alter_table('framework_themes', schema=None) as batch_op:
        batch_op.drop_index('ix_framework_themes_framework_id')
    op.drop_table('framework_themes')
    op.drop_table('frameworks')
