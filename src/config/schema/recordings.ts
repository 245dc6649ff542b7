/** Recording pipeline, Redis and CRM delivery (owned by src/recordings/). */
export const RecordingsTopLevel = {};
