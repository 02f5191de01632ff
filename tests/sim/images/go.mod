module kubeup-sim/images

go 1.19
