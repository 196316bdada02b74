import FaceClusterKit
import ArgumentParser
print("todo")
