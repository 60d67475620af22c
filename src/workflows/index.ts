export { dailyPipeline } from './daily-pipeline';
export { awaitRawDataSensor } from './sensor';
