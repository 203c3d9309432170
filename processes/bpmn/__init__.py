"""A definition version as a BPMN 2.0 picture: the graph mapped to BPMN elements
(`elements`, `model`), laid out left to right (`layout`) and written as XML with diagram
interchange (`export`)."""
