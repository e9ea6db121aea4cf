# Which units of a round do not take part (the office excludes them on its page).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('organizations', '0001_initial'),
        ('questionnaires', '0005_pending_submission'),
    ]

    operations = [
        migrations.AddField(
            model_name='campaign',
            name='excluded_units',
            field=models.ManyToManyField(blank=True, help_text='默认组织单位下全部在用的被评议单位参加；这些单位除外。', related_name='excluded_from_campaigns', to='organizations.unit', verbose_name='不参加本轮的单位'),
        ),
    ]
