"""Names of the graph's topics, services and actions (remap them with ``--ros-args -r old:=new``)."""

COLOR_IMAGE = "/camera/color/image_raw"  # sensor_msgs/Image rgb8
DEPTH_IMAGE = "/camera/depth/image_raw"  # sensor_msgs/Image 32FC1 metres, aligned to colour, same stamp
CAMERA_INFO = "/camera/color/camera_info"  # sensor_msgs/CameraInfo (colour and aligned depth share it)
SEGMENTATION_IMAGE = "/camera/segmentation/image_raw"  # sensor_msgs/Image 16UC1 object ids (sim ground truth)
SEGMENTATION_LABELS = "/camera/segmentation/labels"  # robotracer/LabelMap, transient local
JOINT_STATES = "/joint_states"  # sensor_msgs/JointState (arm + gripper)
ARM_COMMAND = "/arm/joint_command"  # sensor_msgs/JointState position targets
GRIPPER_COMMAND = "/gripper/command"  # std_msgs/Float64 closure 0 (open) .. 1 (closed)
SIM_OBJECT_POSES = "/sim/object_poses"  # visualization_msgs/MarkerArray, text = object name (ground truth)
SIM_RESET = "/sim/reset"  # robotracer/srv/ResetSim
SIM_BASE_POSE = "/sim/base_pose"  # visualization_msgs/MarkerArray: a floating base (G1 pelvis) in the world (ground truth)
TRACER_INFER = "/tracer/infer"  # robotracer/srv/InferTrace
TRACE_IMAGE = "/tracer/trace_image"  # sensor_msgs/Image rgb8, the last trace drawn on its camera frame
LIFTER_LIFT = "/lifter/lift"  # robotracer/srv/LiftTrace
TRACE_PATH = "/trace/path"  # nav_msgs/Path of the last lifted trace
TRACE_MARKERS = "/trace/markers"  # visualization_msgs/MarkerArray of the last lifted trace
PLAN_TRACE = "/controller/plan_trace"  # robotracer/srv/PlanTrace
EXECUTE_TRACE = "/controller/execute_trace"  # robotracer/action/ExecuteTrace
RELEASE_ARM = "/controller/release_arm"  # std_srvs/Trigger (G1): hand a held arm back to the standing controller
TRACE_ACTION = "/trace"  # robotracer/action/Trace
ESTOP = "/estop"  # std_msgs/Bool, latched: true = emergency stop engaged (controllers stop and hold), false = released
