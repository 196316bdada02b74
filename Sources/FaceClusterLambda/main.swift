import FaceClusterKit
print("todo")
