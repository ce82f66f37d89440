# The time the retention purge (xiaokang imports purge) removed a batch's stored files.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('imports', '0003_batch_job'),
    ]

    operations = [
        migrations.AddField(
            model_name='importbatch',
            name='files_removed_at',
            field=models.DateTimeField(blank=True, help_text='上传文件和错误清单按保存期限删除的时间（xiaokang imports purge）；空：未删除', null=True, verbose_name='文件删除时间'),
        ),
    ]
