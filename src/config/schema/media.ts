import { Type } from '@sinclair/typebox';

/** Media plane: rtpengine, prompts, whisper and countdown (owned by src/media/). */
export const MediaTopLevel = {};

/** Queue fields read by the media plane (whisper settings). */
export const QueueMediaFields = Type.Object({});
