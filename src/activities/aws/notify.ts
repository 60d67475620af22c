/** The notify stage on AWS (SNS): one publish per notice, readable for e-mail subscribers, filterable by attributes. */
import { createHash } from 'node:crypto';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Notice, PublishResult } from '../types';
import { awsCall } from './aws-errors';
import { formatNoticeText } from '../notify/format';

/** SNS subjects: ASCII, no line breaks, at most 100 characters. */
export function snsSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\u2026/g, '...')
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const s = ascii || 'pipeline notice';
  return s.length <= 100 ? s : `${s.slice(0, 97)}...`;
}

/** The body is the same text every channel sends, with the run's Web UI link. */
export async function publishNotice(sns: SNSClient, topicArn: string, notice: Notice, webUiUrl: string): Promise<PublishResult> {
  const fifo = topicArn.endsWith('.fifo');
  const out = await awsCall(`SNS topic ${topicArn}`, 'Publish', () =>
    sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: snsSubject(notice.subject),
        Message: formatNoticeText(notice, webUiUrl),
        MessageAttributes: {
          status: { DataType: 'String', StringValue: notice.kind },
          run_date: { DataType: 'String', StringValue: notice.runDate },
          workflow_id: { DataType: 'String', StringValue: notice.workflowId },
        },
        // A FIFO topic drops a second publish of the same notice key; standard topics cannot.
        ...(fifo
          ? {
              MessageGroupId: notice.workflowId.slice(0, 128),
              MessageDeduplicationId: createHash('sha256').update(notice.key).digest('hex'),
            }
          : {}),
      }),
    ),
  );
  return { messageId: out.MessageId ?? '', channels: [`sns:${topicArn}`] };
}
