"""deploy/template.yaml read as CloudFormation reads it: the short forms (!Ref, !Sub, !GetAtt, …) become their
long forms ({"Ref": …}, {"Fn::Sub": …}, …), so the template can be handed to moto's CloudFormation as JSON."""
import yaml


class Loader(yaml.SafeLoader):
    pass


def _construct(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


Loader.add_multi_constructor("!", lambda loader, suffix, node: _construct(loader, suffix, node))


def load(path):
    with open(path) as file:
        return yaml.load(file, Loader=Loader)
